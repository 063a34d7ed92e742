import ServiceLifecycle

/// Runs `check` every `interval` until the task is cancelled or a graceful shutdown begins (the status sources'
/// `run()` loops).
func pollUntilShutdown(every interval: Duration, _ check: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                break
            }
            await check()
        }
    }
}
