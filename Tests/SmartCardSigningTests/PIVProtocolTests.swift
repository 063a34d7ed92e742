import Crypto
import Foundation
import Signing
import SmartCardSigning
import Synchronization
import Testing
import X509
import _CryptoExtras

/// The emulator as an in-process transport: what the PIV commands send, without pcscd.
final class EmulatorTransport: APDUTransport, Sendable {
    let card: PIVCardEmulator
    private let sent = Mutex<[[UInt8]]>([])

    init(card: PIVCardEmulator) {
        self.card = card
    }

    var reader: String { "in-process emulator" }

    /// The command APDUs sent so far.
    var commands: [[UInt8]] { self.sent.withLock { $0 } }

    func transmit(_ command: [UInt8]) throws(SmartCardError) -> [UInt8] {
        self.sent.withLock { $0.append(command) }
        return self.card.process(command)
    }
}

@Suite("PIV protocol: APDUs, TLV, certificate objects (no PC/SC)")
struct PIVProtocolTests {
    @Test("BER-TLV: one- to three-octet tags, long lengths, padding, and broken input")
    func tlvParsing() throws {
        let long = [UInt8](repeating: 0xAB, count: 300)
        let encoded =
            BERTLV(tag: [0x5F, 0xC1, 0x0A], value: [1, 2]).encoded + [0x00, 0xFF]
            + BERTLV(tag: [0x70], value: long).encoded
        #expect(BERTLV(tag: [0x70], value: long).encoded.prefix(4) == [0x70, 0x82, 0x01, 0x2C])
        let objects = try #require(BERTLV.parseAll(encoded[...]))
        #expect(objects.map(\.tag) == [[0x5F, 0xC1, 0x0A], [0x70]])
        #expect(BERTLV.first([0x70], in: objects) == long)
        #expect(BERTLV.encodeLength(0x7F) == [0x7F])
        #expect(BERTLV.encodeLength(0x80) == [0x81, 0x80])
        #expect(BERTLV.encodeLength(0x1_0000) == [0x83, 0x01, 0x00, 0x00])
        #expect(BERTLV.parseAll([0x70, 0x82, 0x01][...]) == nil)
        #expect(BERTLV.parseAll([0x70, 0x05, 0x01][...]) == nil)
        #expect(BERTLV.parseAll([0x5F][...]) == nil)
        #expect(BERTLV.parseAll([0x70, 0x84, 0, 0, 0, 1, 0][...]) == nil)
    }

    @Test("gzip-compressed certificate objects inflate; garbage and oversized streams do not")
    func gzipInflate() throws {
        let data = Array(repeating: Array("certificate ".utf8), count: 100).flatMap { $0 }
        let compressed = try gzip(data)
        #expect(compressed.count < data.count)
        #expect(Gzip.inflate(compressed, limit: 64 * 1024) == data)
        #expect(Gzip.inflate(compressed, limit: 100) == nil)
        #expect(Gzip.inflate(Array(compressed.prefix(compressed.count / 2)), limit: 64 * 1024) == nil)
        #expect(Gzip.inflate([1, 2, 3, 4], limit: 64 * 1024) == nil)
    }

    @Test("SELECT (full AID), GET DATA of a compressed certificate over GET RESPONSE, unknown objects are nil")
    func selectAndCertificate() throws {
        let card = PIVCardEmulator()
        let key = try EmulatedKey.makeRSA2048()
        let certificate = try TestCA().issue(for: key.publicKey, commonName: "unit")
        card.install(key, at: .authentication, certificate: try certificate.derBytes)
        card.install(.makeP256(), at: .digitalSignature, certificate: try certificate.derBytes, compressed: true)
        let transport = EmulatorTransport(card: card)
        let session = PIVCardSession(transport: transport)
        let template = try session.select()
        #expect(template.first == 0x61)
        #expect(try session.certificate(for: .authentication) == certificate)
        #expect(try session.certificate(for: .digitalSignature) == certificate)
        #expect(try session.certificate(for: .keyManagement) == nil)
        // The RSA certificate is longer than 256 octets: its GET DATA answer came in pieces.
        #expect(transport.commands.contains { $0.count >= 2 && $0[1] == 0xC0 })
        #expect(try session.getData([0x5F, 0xC1, 0x02]) != nil)
    }

    @Test("the emulator answers SELECT with the truncated 9-octet AID, as OpenSC sends it")
    func truncatedAID() {
        let card = PIVCardEmulator()
        let answer = card.process([
            0x00, 0xA4, 0x04, 0x00, 0x09, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00,
        ])
        #expect(answer.first == 0x61)
        #expect(answer.suffix(2) == [0x90, 0x00])
        #expect(
            card.process([0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x09, 0x00]).suffix(2) == [0x6A, 0x82])
    }

    @Test("a card without PIV: SELECT fails with notPIV and the status word")
    func notPIV() throws {
        struct Silent: APDUTransport {
            var reader: String { "silent" }
            func transmit(_ command: [UInt8]) throws(SmartCardError) -> [UInt8] { [0x6A, 0x82] }
        }
        let error = #expect(throws: SmartCardError.self) { try PIVCardSession(transport: Silent()).select() }
        #expect(error?.code == .notPIV)
        #expect(error?.statusWord == 0x6A82)
    }

    @Test("VERIFY: status query, a wrong PIN with the counter, the right PIN; PIN padding to 8 octets")
    func verify() throws {
        let card = PIVCardEmulator(pin: "123456")
        let transport = EmulatorTransport(card: card)
        let session = PIVCardSession(transport: transport)
        try session.select()
        #expect(try session.pinStatus() == .retriesLeft(3))
        let wrong = #expect(throws: SmartCardError.self) { try session.verify(pin: Array("111111".utf8)) }
        #expect(wrong?.code == .pinRejected)
        #expect(wrong?.retriesLeft == 2)
        #expect(try session.pinStatus() == .retriesLeft(2))
        try session.verify(pin: Array("123456".utf8))
        #expect(try session.pinStatus() == .verified)
        #expect(transport.commands.last.map { Array($0.prefix(5)) } == [0x00, 0x20, 0x00, 0x80])
        let sent = try #require(transport.commands.last { $0.count == 13 && $0[1] == 0x20 })
        #expect(Array(sent.suffix(8)) == Array("123456".utf8) + [0xFF, 0xFF])
        let tooLong = #expect(throws: SmartCardError.self) { try session.verify(pin: Array("123456789".utf8)) }
        #expect(tooLong?.code == .invalidConfiguration)
    }

    @Test("GENERAL AUTHENTICATE with RSA: 7C/81 of 256 octets goes in a chain (CLA 10), the answer by GET RESPONSE")
    func chainingAndGetResponse() throws {
        let card = PIVCardEmulator()
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        card.install(.rsa2048(key), at: .digitalSignature, certificate: nil)
        let transport = EmulatorTransport(card: card)
        let session = PIVCardSession(transport: transport)
        try session.select()
        try session.verify(pin: Array("123456".utf8))
        // An EMSA-PKCS1-v1_5 block with a SHA-256 DigestInfo, as the signer builds it.
        let digest = Array(SHA256.hash(data: Array("chained".utf8)))
        let digestInfo: [UInt8] =
            [
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                0x04, 0x20,
            ]
            + digest
        let block = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: 256 - 3 - digestInfo.count) + [0x00] + digestInfo
        let signature = try session.authenticate(algorithm: .rsa2048, key: .digitalSignature, input: block)
        #expect(signature.count == 256)
        #expect(
            key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: SHA256.hash(data: Array("chained".utf8)),
                padding: .insecurePKCS1v1_5
            )
        )
        let authenticate = transport.commands.filter { $0.count >= 2 && $0[1] == 0x87 }
        #expect(authenticate.count == 2)
        #expect(authenticate.first?.first == 0x10)
        #expect(authenticate.first?[4] == 0xFF)
        #expect(authenticate.last?.first == 0x00)
        #expect(transport.commands.contains { $0.count == 5 && $0[1] == 0xC0 })

        // 9C wants the PIN right before each use.
        let again = #expect(throws: SmartCardError.self) {
            _ = try session.authenticate(algorithm: .rsa2048, key: .digitalSignature, input: block)
        }
        #expect(again?.statusWord == 0x6982)
        #expect(again?.reason.contains("every signature") == true)
    }

    @Test("configuration checks: readers, queue, a PIN source for keys that need one, the PIN's length")
    func configuration() async throws {
        var noReaders = SmartCardSignerConfiguration(readers: [], pin: .environment(name: "PIV_PIN"))
        noReaders.healthCheckInterval = .seconds(1)
        let empty = await #expect(throws: SmartCardError.self) {
            _ = try await SmartCardSigner(configuration: noReaders, logger: quietLogger)
        }
        #expect(empty?.code == .invalidConfiguration)
        let noPIN = SmartCardSignerConfiguration(pin: nil)
        let error = await #expect(throws: SmartCardError.self) {
            _ = try await SmartCardSigner(configuration: noPIN, logger: quietLogger)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason.contains("9C") == true)
        var backwards = SmartCardSignerConfiguration(pin: .environment(name: "PIV_PIN"))
        backwards.reconnectMaximumDelay = .milliseconds(1)
        let delays = await #expect(throws: SmartCardError.self) {
            _ = try await SmartCardSigner(configuration: backwards, logger: quietLogger)
        }
        #expect(delays?.code == .invalidConfiguration)
        let twice = await #expect(throws: SmartCardError.self) {
            _ = try await SmartCardSigner(
                configuration: SmartCardSignerConfiguration(readers: [.name("A"), .name("A")], pin: nil),
                logger: quietLogger
            )
        }
        #expect(twice?.code == .invalidConfiguration)
        #expect(SmartCardSignerConfiguration(keyReference: .cardAuthentication, pin: nil).effectivePINPolicy == .never)
        #expect(
            SmartCardSignerConfiguration(keyReference: .keyManagement, pin: nil).effectivePINPolicy
                == .oncePerConnection)
        #expect(PIVKeyReference("9c") == .digitalSignature)
        #expect(PIVKeyReference("0x9A") == .authentication)
        #expect(PIVKeyReference("card-authentication") == .cardAuthentication)
        #expect(PIVKeyReference("9B") == nil)
    }
}
