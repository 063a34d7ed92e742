import Crypto
import Foundation
import SmartCardSigning
import Synchronization
import X509
import _CryptoExtras

/// A private key the emulated card holds, made with swift-crypto for each test run.
enum EmulatedKey: Sendable {
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case rsa2048(_RSA.Signing.PrivateKey)

    static func makeP256() -> EmulatedKey { .p256(P256.Signing.PrivateKey()) }
    static func makeP384() -> EmulatedKey { .p384(P384.Signing.PrivateKey()) }
    static func makeRSA2048() throws -> EmulatedKey { .rsa2048(try _RSA.Signing.PrivateKey(keySize: .bits2048)) }

    var publicKey: Certificate.PublicKey {
        switch self {
        case .p256(let key): Certificate.PublicKey(key.publicKey)
        case .p384(let key): Certificate.PublicKey(key.publicKey)
        case .rsa2048(let key): Certificate.PublicKey(key.publicKey)
        }
    }

    /// The PIV algorithm identifier.
    var algorithmID: UInt8 {
        switch self {
        case .p256: 0x11
        case .p384: 0x14
        case .rsa2048: 0x07
        }
    }

    /// What the card computes for GENERAL AUTHENTICATE: ECDSA over the given digest (DER), or the raw
    /// RSA private-key operation on the given block (`RSA_sign_raw`, no padding, as a card does).
    func sign(_ input: [UInt8]) throws -> [UInt8] {
        switch self {
        case .p256(let key):
            guard input.count == 32 else { throw EmulatorRefusal(0x6A80) }
            return Array(try key.signature(for: RawDigest32(bytes: input)).derRepresentation)
        case .p384(let key):
            guard input.count == 48 else { throw EmulatorRefusal(0x6A80) }
            return Array(try key.signature(for: RawDigest48(bytes: input)).derRepresentation)
        case .rsa2048(let key):
            guard input.count == 256 else { throw EmulatorRefusal(0x6A80) }
            let raw = try _RSA.BlindSigning.PrivateKey(
                derRepresentation: key.derRepresentation,
                parameters: .RSABSSA_SHA384_PSS_Deterministic
            )
            return try raw.blindSignature(for: input).withUnsafeBytes { Array($0) }
        }
    }
}

/// A digest the card receives ready-made: swift-crypto signs any `Digest`, so the emulator wraps the
/// host's hash in one.
struct RawDigest32: Digest {
    static let byteCount = 32
    var bytes: [UInt8]
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.bytes.withUnsafeBytes(body)
    }
    func makeIterator() -> IndexingIterator<[UInt8]> { self.bytes.makeIterator() }
    var description: String { "RawDigest32" }
}

struct RawDigest48: Digest {
    static let byteCount = 48
    var bytes: [UInt8]
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.bytes.withUnsafeBytes(body)
    }
    func makeIterator() -> IndexingIterator<[UInt8]> { self.bytes.makeIterator() }
    var description: String { "RawDigest48" }
}

/// A status word the emulator answers instead of data.
struct EmulatorRefusal: Error {
    var statusWord: UInt16
    init(_ statusWord: UInt16) { self.statusWord = statusWord }
}

/// A PIV card (NIST SP 800-73-4) in test code: it answers command APDUs like a card, with keys made
/// by swift-crypto.
///
/// It implements SELECT (the full and the truncated 9-octet AID), GET DATA (CHUID, CCC, discovery,
/// the four certificate objects, optionally gzip-compressed), VERIFY (with a retry counter, also
/// without data as a status query, and P1 = FF to reset), GENERAL AUTHENTICATE (ECC P-256/P-384
/// signatures of a host digest, RSA-2048 raw signatures), command chaining (CLA 10) and GET RESPONSE
/// (61XX) for answers over 256 octets. The 9C key wants VERIFY right before each use, like a real card.
/// It counts what it was sent, and can be made slow.
final class PIVCardEmulator: Sendable {
    struct Slot: Sendable {
        var key: EmulatedKey
        var certificate: [UInt8]?
        var compressCertificate: Bool
    }

    private struct State {
        var slots: [UInt8: Slot] = [:]
        var pin: [UInt8]
        var maximumRetries = 3
        var retries = 3
        var selected = false
        var pinVerified = false
        /// Set by a successful VERIFY, cleared by the next GENERAL AUTHENTICATE (the 9C policy).
        var pinJustVerified = false
        var chain: (ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8])?
        var pending: [UInt8] = []
        var authenticateDelay: Duration = .zero
        /// Answer VERIFY without data with 6A80, as some cards do.
        var refusesStatusQuery = false
        // Counters.
        var pinVerifications = 0
        var pinStatusQueries = 0
        var authentications = 0
        var instructions: [UInt8] = []
        var instructionCounts: [UInt8: Int] = [:]
        /// Time spent answering commands (the artificial delay not included).
        var processing: Duration = .zero
    }

    private let state: Mutex<State>

    /// The card's ATR: T=1, historical bytes "Sigillum PIV", TCK.
    let atr: [UInt8]

    init(pin: String = "123456") {
        self.state = Mutex(State(pin: Array(pin.utf8)))
        var atr: [UInt8] = [0x3B, 0x8C, 0x80, 0x01] + Array("Sigillum PIV".utf8)
        atr.append(atr.dropFirst().reduce(0, ^))
        self.atr = atr
    }

    /// Puts `key` into slot `reference`, with its certificate (DER), stored compressed when asked.
    func install(_ key: EmulatedKey, at reference: PIVKeyReference, certificate: [UInt8]?, compressed: Bool = false) {
        self.state.withLock {
            $0.slots[reference.rawValue] = Slot(key: key, certificate: certificate, compressCertificate: compressed)
        }
    }

    /// Makes every GENERAL AUTHENTICATE take `delay` (a slow card).
    func setAuthenticateDelay(_ delay: Duration) {
        self.state.withLock { $0.authenticateDelay = delay }
    }

    /// Makes VERIFY without data fail with 6A80 (a card without the status query).
    func refuseStatusQuery() {
        self.state.withLock { $0.refusesStatusQuery = true }
    }

    /// VERIFY commands that carried a PIN.
    var pinVerifications: Int { self.state.withLock { $0.pinVerifications } }

    /// VERIFY commands without data (status queries).
    var pinStatusQueries: Int { self.state.withLock { $0.pinStatusQueries } }

    /// GENERAL AUTHENTICATE commands that signed.
    var authentications: Int { self.state.withLock { $0.authentications } }

    /// The PIN tries left.
    var retriesLeft: Int { self.state.withLock { $0.retries } }

    /// The instruction bytes received, in order.
    var instructions: [UInt8] { self.state.withLock { $0.instructions } }

    /// How many commands of each instruction byte were received.
    var instructionCounts: [UInt8: Int] { self.state.withLock { $0.instructionCounts } }

    /// The time spent answering commands, the delay of ``setAuthenticateDelay(_:)`` not included.
    var processingTime: Duration { self.state.withLock { $0.processing } }

    /// Power off, power on or reset: the selection and the PIN state are lost.
    func reset() {
        self.state.withLock { state in
            state.selected = false
            state.pinVerified = false
            state.pinJustVerified = false
            state.chain = nil
            state.pending = []
        }
    }

    /// Answers one command APDU.
    func process(_ octets: [UInt8]) -> [UInt8] {
        guard let command = EmulatedCommand(octets) else { return [0x67, 0x00] }
        let delay = self.state.withLock { state -> Duration in
            state.instructions.append(command.ins)
            state.instructionCounts[command.ins, default: 0] += 1
            return command.ins == 0x87 && command.cla & 0x10 == 0 ? state.authenticateDelay : .zero
        }
        if delay > .zero {
            Thread.sleep(
                forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        }
        return self.state.withLock { state in
            let start = ContinuousClock.now
            defer { state.processing += ContinuousClock.now - start }
            do {
                return try Self.answer(command, state: &state)
            } catch let refusal as EmulatorRefusal {
                return [UInt8(refusal.statusWord >> 8), UInt8(refusal.statusWord & 0xFF)]
            } catch {
                return [0x6F, 0x00]
            }
        }
    }

    private static func answer(_ command: EmulatedCommand, state: inout State) throws -> [UInt8] {
        if command.ins != 0xC0 {
            state.pending = []
        }
        // Command chaining: keep the data of links with CLA b5 set.
        var command = command
        if command.cla & 0x10 != 0 {
            if let chain = state.chain, chain.ins != command.ins {
                state.chain = nil
                throw EmulatorRefusal(0x6883)
            }
            let previous = state.chain?.data ?? []
            state.chain = (command.ins, command.p1, command.p2, previous + command.data)
            return [0x90, 0x00]
        }
        if let chain = state.chain {
            state.chain = nil
            guard chain.ins == command.ins else { throw EmulatorRefusal(0x6883) }
            command.data = chain.data + command.data
        }
        switch command.ins {
        case 0xA4: return try self.select(command, state: &state)
        case 0xC0: return self.respond(Array(state.pending), state: &state)
        case 0xCB:
            guard state.selected else { throw EmulatorRefusal(0x6985) }
            return try self.getData(command, state: &state)
        case 0x20:
            guard state.selected else { throw EmulatorRefusal(0x6985) }
            return try self.verify(command, state: &state)
        case 0x87:
            guard state.selected else { throw EmulatorRefusal(0x6985) }
            return try self.authenticate(command, state: &state)
        default:
            throw EmulatorRefusal(0x6D00)
        }
    }

    /// Sends `data`, 256 octets at a time: `61XX` while more waits for GET RESPONSE.
    private static func respond(_ data: [UInt8], state: inout State) -> [UInt8] {
        guard data.count > 256 else {
            state.pending = []
            return data + [0x90, 0x00]
        }
        let rest = Array(data.dropFirst(256))
        state.pending = rest
        return Array(data.prefix(256)) + [0x61, rest.count >= 256 ? 0x00 : UInt8(rest.count)]
    }

    private static func select(_ command: EmulatedCommand, state: inout State) throws -> [UInt8] {
        let aid: [UInt8] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]
        guard command.p1 == 0x04, command.data.count >= 5, command.data.count <= aid.count,
            Array(aid.prefix(command.data.count)) == command.data
        else {
            throw EmulatorRefusal(0x6A82)
        }
        state.selected = true
        let algorithms = [0x07, 0x11, 0x14].flatMap { tlv([0x80], [$0]) } + tlv([0x06], [0x00])
        let template = tlv(
            [0x61],
            tlv([0x4F], Array(aid[5...])) + tlv([0x79], tlv([0x4F], aid)) + tlv([0x50], Array("Sigillum test PIV".utf8))
                + tlv([0xAC], algorithms)
        )
        return self.respond(template, state: &state)
    }

    private static func getData(_ command: EmulatedCommand, state: inout State) throws -> [UInt8] {
        guard command.p1 == 0x3F, command.p2 == 0xFF, command.data.count >= 3, command.data[0] == 0x5C else {
            throw EmulatorRefusal(0x6A80)
        }
        let tag = Array(command.data.dropFirst(2))
        let object: [UInt8]
        switch tag {
        case [0x7E]:
            object = tlv(
                [0x7E],
                tlv([0x4F], [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00])
                    + tlv([0x5F, 0x2F], [0x40, 0x00])
            )
        case [0x5F, 0xC1, 0x02]:
            // CHUID: FASC-N, GUID, expiration date, an empty issuer signature, error detection code.
            let fascn = [UInt8](repeating: 0xD4, count: 25)
            let guid: [UInt8] = Array(0x10...0x1F)
            object = tlv(
                [0x53],
                tlv([0x30], fascn) + tlv([0x34], guid) + tlv([0x35], Array("20351231".utf8)) + tlv([0x3E], [])
                    + tlv([0xFE], [])
            )
        case [0x5F, 0xC1, 0x07]:
            // CCC: card identifier, versions, data model, empty ACL and extensions, error detection code.
            let identifier: [UInt8] = [0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02] + Array(0x20...0x2D)
            object = tlv(
                [0x53],
                tlv([0xF0], identifier) + tlv([0xF1], [0x21]) + tlv([0xF2], [0x21]) + tlv([0xF3], [])
                    + tlv([0xF4], [0x00]) + tlv([0xF5], [0x10]) + tlv([0xF6], []) + tlv([0xF7], []) + tlv([0xFA], [])
                    + tlv([0xFB], []) + tlv([0xFC], []) + tlv([0xFD], []) + tlv([0xFE], [])
            )
        case [0x5F, 0xC1, 0x05], [0x5F, 0xC1, 0x0A], [0x5F, 0xC1, 0x0B], [0x5F, 0xC1, 0x01]:
            let reference: UInt8 =
                switch tag[2] {
                case 0x05: 0x9A
                case 0x0A: 0x9C
                case 0x0B: 0x9D
                default: 0x9E
                }
            guard let slot = state.slots[reference], let certificate = slot.certificate else {
                throw EmulatorRefusal(0x6A82)
            }
            let stored = slot.compressCertificate ? try gzip(certificate) : certificate
            object = tlv(
                [0x53],
                tlv([0x70], stored) + tlv([0x71], [slot.compressCertificate ? 0x01 : 0x00]) + tlv([0xFE], [])
            )
        default:
            throw EmulatorRefusal(0x6A82)
        }
        return self.respond(object, state: &state)
    }

    private static func verify(_ command: EmulatedCommand, state: inout State) throws -> [UInt8] {
        guard command.p2 == 0x80 else { throw EmulatorRefusal(0x6A88) }
        if command.p1 == 0xFF {
            // Reset the security status.
            state.pinVerified = false
            state.pinJustVerified = false
            return [0x90, 0x00]
        }
        guard command.p1 == 0x00 else { throw EmulatorRefusal(0x6A86) }
        if command.data.isEmpty {
            state.pinStatusQueries += 1
            if state.refusesStatusQuery { throw EmulatorRefusal(0x6A80) }
            if state.retries == 0 { throw EmulatorRefusal(0x6983) }
            if state.pinVerified { return [0x90, 0x00] }
            throw EmulatorRefusal(0x63C0 | UInt16(state.retries))
        }
        state.pinVerifications += 1
        guard command.data.count == 8 else { throw EmulatorRefusal(0x6A80) }
        guard state.retries > 0 else { throw EmulatorRefusal(0x6983) }
        let padded = state.pin + [UInt8](repeating: 0xFF, count: 8 - state.pin.count)
        guard command.data == padded else {
            state.retries -= 1
            state.pinVerified = false
            state.pinJustVerified = false
            throw EmulatorRefusal(0x63C0 | UInt16(state.retries))
        }
        state.retries = state.maximumRetries
        state.pinVerified = true
        state.pinJustVerified = true
        return [0x90, 0x00]
    }

    private static func authenticate(_ command: EmulatedCommand, state: inout State) throws -> [UInt8] {
        guard let slot = state.slots[command.p2] else { throw EmulatorRefusal(0x6A88) }
        guard slot.key.algorithmID == command.p1 else { throw EmulatorRefusal(0x6A86) }
        let justVerified = state.pinJustVerified
        state.pinJustVerified = false
        switch command.p2 {
        case 0x9C: guard justVerified else { throw EmulatorRefusal(0x6982) }
        case 0x9E: break
        default: guard state.pinVerified else { throw EmulatorRefusal(0x6982) }
        }
        guard let outer = BERTLV.parseAll(command.data[...]), let template = BERTLV.first([0x7C], in: outer),
            let inner = BERTLV.parseAll(template[...]), let challenge = BERTLV.first([0x81], in: inner),
            BERTLV.first([0x82], in: inner) != nil
        else {
            throw EmulatorRefusal(0x6A80)
        }
        let signature = try slot.key.sign(challenge)
        state.authentications += 1
        return self.respond(tlv([0x7C], tlv([0x82], signature)), state: &state)
    }
}

/// A command APDU as the card parses it: short or extended length (ISO/IEC 7816-4 §5.1).
struct EmulatedCommand {
    var cla: UInt8
    var ins: UInt8
    var p1: UInt8
    var p2: UInt8
    var data: [UInt8]

    init?(_ octets: [UInt8]) {
        guard octets.count >= 4 else { return nil }
        self.cla = octets[0]
        self.ins = octets[1]
        self.p1 = octets[2]
        self.p2 = octets[3]
        let body = Array(octets.dropFirst(4))
        if body.count <= 1 {
            self.data = []
        } else if body[0] != 0 {
            let length = Int(body[0])
            guard body.count == 1 + length || body.count == 2 + length else { return nil }
            self.data = Array(body[1...length])
        } else if body.count == 3 {
            // Extended Le only.
            self.data = []
        } else {
            let length = Int(body[1]) << 8 | Int(body[2])
            guard length > 0, body.count == 3 + length || body.count == 5 + length else { return nil }
            self.data = Array(body[3..<(3 + length)])
        }
    }
}

/// A BER-TLV encoding.
func tlv(_ tag: [UInt8], _ value: [UInt8]) -> [UInt8] {
    BERTLV(tag: tag, value: value).encoded
}
