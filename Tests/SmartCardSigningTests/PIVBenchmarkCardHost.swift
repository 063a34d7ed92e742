import Crypto
import Foundation
import SmartCardSigning
import SwiftASN1
import Testing
import X509
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#endif

/// The card side of `Benchmarks/run.sh` with `BENCH_ONLY=card`: not a check of its own, and skipped unless the
/// harness asks for it (`SIGILLUM_BENCH_CARD_DIR`), as in
/// `swift test --skip-build --filter PIVBenchmarkCardHost`. The emulator lives in this test target, so the
/// benchmark borrows it through the test runner rather than through an executable of its own.
///
/// It starts this process's pcscd with vpcd (see ``PCSCTestEnvironment``), puts one or two emulated cards in the
/// readers, each holding the key of `SIGILLUM_BENCH_CARD_KEY` (PEM: EC P-256, P-384 or RSA-2048) in slots 9C and
/// 9D with the certificate of `SIGILLUM_BENCH_CARD_CERT`, and talks to the harness through files in the folder:
///
/// - it writes `ready` once pcscd sees the cards: `PCSCLITE_CSOCK_NAME=…` (empty when pcscd serves the system
///   socket), `pcscd_pid=…`, `host_pid=…` (this process: the emulator), `readers=N`;
/// - every 100 ms it rewrites `stats`, one line per card of counters since the start: `card=I apdus=N select=N
///   getdata=N verify=N authenticate=N getresponse=N signatures=N emulator_ns=N`;
/// - it reads `delay-ms` (a number): every GENERAL AUTHENTICATE then takes that long, like a real card's signature;
/// - it stops when `stop` appears, the folder goes away, or after `SIGILLUM_BENCH_CARD_LIFETIME` seconds (default
///   7200), and stops pcscd and the cards on the way out.
@Suite(
    "Benchmark card host (Benchmarks/run.sh BENCH_ONLY=card)",
    .enabled(if: BenchmarkCardHost.folder != nil, "only for Benchmarks/run.sh with BENCH_ONLY=card"),
    .enabled(if: pcscStackAvailable, "pcscd or vpcd is not installed")
)
struct PIVBenchmarkCardHost {
    @Test("serve emulated cards to the benchmark's daemons until told to stop")
    func serve() async throws {
        let folder = try #require(BenchmarkCardHost.folder)
        let environment = ProcessInfo.processInfo.environment
        let keyPath = try #require(environment["SIGILLUM_BENCH_CARD_KEY"], "SIGILLUM_BENCH_CARD_KEY is not set")
        let certificatePath = try #require(
            environment["SIGILLUM_BENCH_CARD_CERT"], "SIGILLUM_BENCH_CARD_CERT is not set")
        let count = Int(environment["SIGILLUM_BENCH_CARDS"] ?? "2") ?? 2
        try #require((1...2).contains(count), "SIGILLUM_BENCH_CARDS must be 1 or 2 (vpcd has two readers)")
        let lifetime = Double(environment["SIGILLUM_BENCH_CARD_LIFETIME"] ?? "") ?? 7200
        let key = try BenchmarkCardHost.loadKey(String(contentsOfFile: keyPath, encoding: .utf8))
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
        try #require(certificate.publicKey == key.publicKey, "the certificate is not the key's")
        let der = try certificate.derBytes

        try await PCSCWorld.with { world in
            let cards = (0..<count).map { _ in PIVCardEmulator(pin: testPIN) }
            var readers: [VirtualCardReader] = []
            defer {
                for reader in readers {
                    reader.stop()
                }
            }
            for (index, card) in cards.enumerated() {
                card.install(key, at: .digitalSignature, certificate: der)
                card.install(key, at: .authentication, certificate: der)
                card.install(key, at: .keyManagement, certificate: der)
                let second = index == 1
                readers.append(
                    VirtualCardReader(
                        card: card, port: second ? pcscEnvironment.secondPort : pcscEnvironment.firstPort))
                try await waitForCard(in: second ? secondVirtualReader : firstVirtualReader, present: true)
            }
            let pcscdPID =
                (try? String(contentsOfFile: pcscEnvironment.pidFile, encoding: .utf8))?.filter(\.isNumber) ?? ""
            let socket = ProcessInfo.processInfo.environment["PCSCLITE_CSOCK_NAME"] ?? ""
            try BenchmarkCardHost.write(
                "PCSCLITE_CSOCK_NAME=\(socket)\npcscd_pid=\(pcscdPID)\nhost_pid=\(getpid())\nreaders=\(count)\n",
                to: "\(folder)/ready")

            let deadline = ContinuousClock.now + .seconds(lifetime)
            var delay = -1
            while ContinuousClock.now < deadline, FileManager.default.fileExists(atPath: folder),
                !FileManager.default.fileExists(atPath: "\(folder)/stop")
            {
                let wanted =
                    (try? String(contentsOfFile: "\(folder)/delay-ms", encoding: .utf8))
                    .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
                if wanted != delay, wanted >= 0 {
                    delay = wanted
                    for card in cards {
                        card.setAuthenticateDelay(.milliseconds(wanted))
                    }
                }
                try? BenchmarkCardHost.write(BenchmarkCardHost.stats(cards), to: "\(folder)/stats")
                try await Task.sleep(for: .milliseconds(100))
            }
            try? BenchmarkCardHost.write(BenchmarkCardHost.stats(cards), to: "\(folder)/stats")
        }
    }
}

/// The helpers of ``PIVBenchmarkCardHost``.
enum BenchmarkCardHost {
    /// The folder the benchmark harness talks through, when it started this process.
    static let folder: String? = ProcessInfo.processInfo.environment["SIGILLUM_BENCH_CARD_DIR"]

    /// A PEM private key (PKCS#8 or SEC1 EC, PKCS#8 or PKCS#1 RSA) as a card key.
    static func loadKey(_ pem: String) throws -> EmulatedKey {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return .p256(key) }
        if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return .p384(key) }
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        guard key.keySizeInBits == 2048 else { throw TestFailure("the emulated card takes RSA-2048 keys only") }
        return .rsa2048(key)
    }

    /// One line of counters per card.
    static func stats(_ cards: [PIVCardEmulator]) -> String {
        cards.enumerated().map { index, card in
            let counts = card.instructionCounts
            let time = card.processingTime.components
            let nanoseconds = time.seconds * 1_000_000_000 + time.attoseconds / 1_000_000_000
            return
                "card=\(index) apdus=\(counts.values.reduce(0, +)) select=\(counts[0xA4, default: 0]) "
                + "getdata=\(counts[0xCB, default: 0]) verify=\(counts[0x20, default: 0]) "
                + "authenticate=\(counts[0x87, default: 0]) getresponse=\(counts[0xC0, default: 0]) "
                + "signatures=\(card.authentications) emulator_ns=\(nanoseconds)\n"
        }.joined()
    }

    /// Writes `text` to `path` in one step (a temporary file renamed), so the harness never reads half a file.
    static func write(_ text: String, to path: String) throws {
        let temporary = "\(path).tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw TestFailure("rename \(temporary) → \(path): errno \(errno)") }
    }
}
