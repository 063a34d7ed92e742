import Synchronization

/// Wakes one sleeping task early: a hardware signer's maintenance loop (PKCS#11 token, PIV card) sleeps
/// between health checks and reconnection attempts, and a lost token or card, or a shutdown, wakes it.
///
/// A signal while nobody sleeps is kept for the next ``wait(upTo:)``. Waking early without a signal
/// can happen (a timer that fired as the signal came) and is harmless: the loop looks at its state.
package final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    package init() {}

    /// Wakes the sleeper, or the next one.
    package func signal() {
        let continuation: CheckedContinuation<Void, Never>? = self.state.withLock { state in
            guard let continuation = state.continuation else {
                state.pending = true
                return nil
            }
            state.continuation = nil
            return continuation
        }
        continuation?.resume()
    }

    /// Sleeps until ``signal()``, `duration` or cancellation, whichever comes first.
    package func wait(upTo duration: Duration) async {
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: duration)) != nil else { return }
            self.signal()
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = self.state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.continuation = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            self.signal()
        }
    }
}
