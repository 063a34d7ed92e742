import Synchronization

/// Wakes a card's maintenance loop before its sleep ends: the card was lost, or the signer closes.
///
/// A signal that finds no sleeper is kept for the next ``wait(upTo:)``. The loop looks at the card's
/// state after every wake-up, so waking without cause does no harm.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var sleeper: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the sleeper now, or the next one at once.
    func signal() {
        let sleeper = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let sleeper = state.sleeper else {
                state.signalled = true
                return nil
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.resume()
    }

    /// Sleeps until ``signal()``, the end of `duration`, or cancellation.
    func wait(upTo duration: Duration) async {
        let alarm = Task { [self] in
            if (try? await Task.sleep(for: duration)) != nil {
                self.signal()
            }
        }
        defer { alarm.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLock { state -> Bool in
                    if state.signalled || Task.isCancelled {
                        state.signalled = false
                        return true
                    }
                    state.sleeper = continuation
                    return false
                }
                if now {
                    continuation.resume()
                }
            }
        } onCancel: {
            self.signal()
        }
    }
}
