import Foundation
import Logging
import PKIMessages
import Synchronization
import Testing

@testable import OCSPResponder

/// Records what the watcher's `onChange` hook received.
final class ChangeRecorder: Sendable {
    private let storage = Mutex<[StatusSnapshot]>([])

    var snapshots: [StatusSnapshot] { self.storage.withLock { $0 } }
    var generations: [UInt64] { self.snapshots.map(\.generation) }

    var hook: @Sendable (StatusSnapshot) async -> Void {
        { snapshot in self.storage.withLock { $0.append(snapshot) } }
    }
}

/// Runs `watcher.run()` beside `body`, then cancels it and waits for it to return.
func whileRunning<T: Sendable>(
    _ watcher: StatusSourceWatcher,
    _ body: @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await watcher.run()
            return nil
        }
        do {
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

@Suite("Status source watcher", .timeLimit(.minutes(1)))
struct StatusSourceWatcherTests {
    static let initial = indexLine("V", serial: "01") + indexLine("V", serial: "02")
    static let fast = StatusSourceWatcher.Configuration(pollInterval: .milliseconds(100), issuerLabel: "test")

    func revoked(_ snapshot: StatusSnapshot, _ hex: String) -> CertificateStatus.Revocation? {
        guard let key = SerialNumberKey(hex: hex), case .revoked(let revocation)? = snapshot.status(of: key) else {
            return nil
        }
        return revocation
    }

    @Test("an R line appended to index.txt, and a line changed in place, are picked up by the next poll")
    func appendAndEditInPlace() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let changes = ChangeRecorder()
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: Self.fast,
                logger: silentLogger,
                onChange: changes.hook
            )
            #expect(watcher.currentSnapshot.generation == 1)
            #expect(watcher.status(of: SerialNumberKey(magnitude: [3])) == nil)

            try await whileRunning(watcher) {
                try append(indexLine("R", serial: "03", revocation: "261125000000Z,keyCompromise"), to: path)
                let appended = await eventually { watcher.currentSnapshot.count == 3 }
                #expect(appended, "the appended line was not picked up")
                #expect(self.revoked(watcher.currentSnapshot, "03")?.reason == .keyCompromise)
                #expect(await eventually { changes.generations == [2] })

                let edited =
                    Self.initial.replacingOccurrences(
                        of: indexLine("V", serial: "02"),
                        with: indexLine("R", serial: "02", revocation: "261125000001Z,superseded")
                    ) + indexLine("R", serial: "03", revocation: "261125000000Z,keyCompromise")
                try writeInPlace(edited, to: path)
                let served = await eventually { self.revoked(watcher.currentSnapshot, "02") != nil }
                #expect(served, "the line changed in place was not picked up")
                #expect(self.revoked(watcher.currentSnapshot, "02")?.reason == .superseded)
                #expect(await eventually { changes.generations == [2, 3] })
                #expect(changes.snapshots.last === watcher.currentSnapshot)
            }
        }
    }

    @Test("an index.txt replaced by rename (as openssl ca does) is picked up by the next poll")
    func atomicReplace() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let changes = ChangeRecorder()
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: Self.fast,
                logger: silentLogger,
                onChange: changes.hook
            )
            try await whileRunning(watcher) {
                // Same size as before: the new inode (and modification time) tells.
                let replaced = indexLine("V", serial: "01") + indexLine("V", serial: "03")
                let start = ContinuousClock.now
                try replaceAtomically(Array(replaced.utf8), at: path)
                let served = await eventually { watcher.status(of: SerialNumberKey(magnitude: [3])) == .good }
                #expect(served, "the replaced file was not served (started \(start))")
                #expect(watcher.status(of: SerialNumberKey(magnitude: [2])) == nil)
                #expect(await eventually { changes.generations == [2] })
            }
        }
    }

    @Test("a malformed rewrite keeps the previous snapshot, is logged once per distinct failure, and a fix is read")
    func malformedReload() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let logs = CapturingLogHandler()
            let changes = ChangeRecorder()
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: Self.fast,
                logger: logs.logger,
                onChange: changes.hook
            )
            let first = watcher.currentSnapshot

            // Half a file: the revocation of 02 and a truncated line.
            let broken =
                indexLine("V", serial: "01") + indexLine("R", serial: "02", revocation: "261125000000Z")
                + "R\t2711250000"
            try writeInPlace(broken, to: path)
            let outcome = await watcher.checkForChange()
            guard case .failed(let error) = outcome else {
                Issue.record("expected a failure, got \(outcome)")
                return
            }
            #expect(error.code == .malformedIndex)
            #expect(error.lineNumber == 3)
            #expect(watcher.currentSnapshot === first)
            #expect(watcher.status(of: SerialNumberKey(magnitude: [2])) == .good)
            #expect(await watcher.checkForChange() == .unchanged)
            #expect(logs.messages(at: .error).count == 1)

            // The same failure again (a new file with the same defect) is not logged again.
            try replaceAtomically(Array(broken.utf8), at: path)
            #expect(await watcher.checkForChange() == .failed(error))
            #expect(logs.messages(at: .error).count == 1)

            // Another failure is.
            try writeInPlace(Self.initial + indexLine("V", serial: "zz"), to: path)
            #expect(await watcher.checkForChange() == .failed(error))
            #expect(logs.messages(at: .error).count == 2)
            #expect(watcher.currentSnapshot === first)
            #expect(changes.generations.isEmpty)

            let fixed = Self.initial + indexLine("R", serial: "03", revocation: "261125000000Z")
            try writeInPlace(fixed, to: path)
            #expect(await watcher.checkForChange() == .reloaded(generation: 2))
            #expect(self.revoked(watcher.currentSnapshot, "03") != nil)
            #expect(changes.generations == [2])
        }
    }

    @Test("a file that disappears keeps the last snapshot; it is read again when it returns")
    func disappearsAndReturns() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let logs = CapturingLogHandler()
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: Self.fast,
                logger: logs.logger
            )
            try FileManager.default.removeItem(atPath: path)
            #expect(await watcher.checkForChange() == .missing)
            #expect(await watcher.checkForChange() == .missing)
            #expect(logs.messages(at: .warning).count == 1)
            #expect(watcher.currentSnapshot.count == 2)
            #expect(watcher.status(of: SerialNumberKey(magnitude: [1])) == .good)

            try writeInPlace("", to: path)
            try writeInPlace(Self.initial + indexLine("V", serial: "03"), to: path)
            #expect(await watcher.checkForChange() == .reloaded(generation: 2))
            #expect(watcher.currentSnapshot.count == 3)
        }
    }

    @Test("a rewrite with the same content publishes nothing")
    func sameContent() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let changes = ChangeRecorder()
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: Self.fast,
                logger: silentLogger,
                onChange: changes.hook
            )
            try replaceAtomically(Array(Self.initial.utf8), at: path)
            #expect(await watcher.checkForChange() == .sameContent)
            #expect(await watcher.checkForChange() == .unchanged)
            #expect(watcher.currentSnapshot.generation == 1)
            #expect(changes.generations.isEmpty)
        }
    }

    @Test("start-up refuses a missing file, a directory, a malformed file and a poll interval of zero")
    func startupRefusals() async throws {
        try await withTemporaryDirectory { directory in
            func code(_ source: any StatusFileSource, _ configuration: StatusSourceWatcher.Configuration = .init())
                -> OCSPResponderError.ErrorCode?
            {
                do {
                    _ = try StatusSourceWatcher(source: source, configuration: configuration, logger: silentLogger)
                    return nil
                } catch {
                    return error.code
                }
            }
            #expect(code(OpenSSLIndexFile(path: directory.path("missing.txt"))) == .sourceUnavailable)
            #expect(code(OpenSSLIndexFile(path: directory.path("no-such-dir/index.txt"))) == .sourceUnavailable)
            #expect(code(OpenSSLIndexFile(path: directory.url.path)) == .sourceUnavailable)
            try writeInPlace("V\tnonsense\n", to: directory.path("bad.txt"))
            #expect(code(OpenSSLIndexFile(path: directory.path("bad.txt"))) == .malformedIndex)
            try writeInPlace(Self.initial, to: directory.path("index.txt"))
            #expect(
                code(
                    OpenSSLIndexFile(path: directory.path("index.txt")),
                    StatusSourceWatcher.Configuration(pollInterval: .zero)
                ) == .invalidConfiguration
            )
            #expect(code(OpenSSLIndexFile(path: directory.path("index.txt"))) == nil)
        }
    }

    @Test("run() returns promptly when cancelled")
    func stopsOnCancellation() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.path("index.txt")
            try writeInPlace(Self.initial, to: path)
            let watcher = try StatusSourceWatcher(
                source: OpenSSLIndexFile(path: path),
                configuration: StatusSourceWatcher.Configuration(pollInterval: .seconds(30)),
                logger: silentLogger
            )
            let task = Task { try await watcher.run() }
            try await Task.sleep(for: .milliseconds(50))
            let start = ContinuousClock.now
            task.cancel()
            try await task.value
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }
}
