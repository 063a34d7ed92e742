import Signing
import Synchronization
import Testing
import X509

@Suite("CallWatchedSigner: the age of the oldest signature call still running")
struct CallWatchedSignerTests {
    /// Forwards to a software signer, but holds every call until released.
    final class HeldSigner: Signer {
        let base: SoftwareSigner
        let entered = Atomic<Int>(0)
        let released = Atomic<Bool>(false)

        init(base: SoftwareSigner) { self.base = base }

        var scheme: SignatureScheme { self.base.scheme }
        var certificate: Certificate { self.base.certificate }
        var chain: [Certificate] { [] }
        var kind: String { "held" }
        var health: SignerHealth { .available }

        func sign(_ message: [UInt8]) async throws -> [UInt8] {
            self.entered.add(1, ordering: .relaxed)
            while !self.released.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(5))
            }
            return try self.base.sign(message)
        }
    }

    @Test("A call that does not return shows its age; none once it returned; the signature passes through")
    func ages() async throws {
        let held = HeldSigner(base: try SchemeCase.all[0].makeSigner())
        let watched = CallWatchedSigner(held)
        #expect(watched.oldestCallAge() == nil)
        #expect(watched.kind == "held")
        #expect(watched.scheme == held.scheme)

        let call = Task { try await watched.sign(Array("message".utf8)) }
        while held.entered.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(200))
        let age = try #require(watched.oldestCallAge())
        #expect(age >= .milliseconds(200))
        #expect(watched.runningCalls == 1)

        held.released.store(true, ordering: .relaxed)
        let signature = try await call.value
        #expect(!signature.isEmpty)
        #expect(watched.oldestCallAge() == nil)
        #expect(watched.runningCalls == 0)
    }

    @Test("A call that throws is no longer counted")
    func throwing() async throws {
        struct CardRemoved: Error {}
        struct Failing: Signer {
            let certificate: Certificate
            var scheme: SignatureScheme { .ecdsaP256SHA256 }
            var chain: [Certificate] { [] }
            var kind: String { "failing" }
            var health: SignerHealth { .unavailable(reason: "card removed") }
            func sign(_ message: [UInt8]) async throws -> [UInt8] { throw CardRemoved() }
        }
        let watched = CallWatchedSigner(Failing(certificate: try SchemeCase.all[0].makeSigner().certificate))
        await #expect(throws: (any Error).self) { try await watched.sign([1, 2, 3]) }
        #expect(watched.runningCalls == 0)
        #expect(watched.health == .unavailable(reason: "card removed"))
    }
}
