/// A start-up step that failed, named for the operator.
struct StartupError: Error, CustomStringConvertible {
    let step: String
    let underlying: any Error

    var description: String { "\(self.step): \(self.underlying)" }
}

/// Runs `body`, wrapping any error with the name of the step.
func startupStep<T>(_ step: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StartupError {
        throw error
    } catch {
        throw StartupError(step: step, underlying: error)
    }
}
