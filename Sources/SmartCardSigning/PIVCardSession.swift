package import X509

/// Something that carries APDUs to a card: a PC/SC connection, or (in tests) a card emulator.
package protocol APDUTransport {
    /// The reader's name, for messages.
    var reader: String { get }

    /// Sends one command APDU and returns the response APDU (data and status word). Blocks.
    func transmit(_ command: [UInt8]) throws(SmartCardError) -> [UInt8]
}

extension PCSCCard: APDUTransport {}

/// The PIV Card Application identifier (SP 800-73-4 Part 1 §2.2): NIST RID `A0 00 00 03 08`, PIX
/// `00 00 10 00 01 00` (application 1000, version 0100).
package let pivApplicationID: [UInt8] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]

/// What VERIFY without data says about the PIN (SP 800-73-4 Part 2 §3.2.1).
package enum PIVPINStatus: Sendable, Hashable {
    /// `9000`: the PIN is verified in this session.
    case verified
    /// `63CX`: not verified, X tries left.
    case retriesLeft(Int)
    /// `6983`, or `63C0`: blocked; only the PUK unblocks it.
    case blocked
}

/// The PIV commands Sigillum sends (SP 800-73-4 Part 2 §3), over one ``APDUTransport``.
///
/// Data longer than a short APDU goes by command chaining (CLA `10` on all but the last command,
/// ISO/IEC 7816-4 §5.1.1.1); answers longer than 256 octets come by GET RESPONSE while the card says
/// `61XX`. Every method blocks.
package struct PIVCardSession {
    package let transport: any APDUTransport

    package init(transport: any APDUTransport) {
        self.transport = transport
    }

    private var reader: String { self.transport.reader }

    /// Sends `command`, chaining its data and collecting a long answer.
    ///
    /// - Returns: The whole answer and the final status word; a refused link of a chain ends it early
    ///   with that link's status word.
    package func send(_ command: CommandAPDU) throws(SmartCardError) -> ResponseAPDU {
        var chunks: [[UInt8]] = []
        var offset = 0
        repeat {
            let end = min(offset + 255, command.data.count)
            chunks.append(Array(command.data[offset..<end]))
            offset = end
        } while offset < command.data.count
        var response = ResponseAPDU(statusWord: StatusWord.success)
        for (index, chunk) in chunks.enumerated() {
            let last = index == chunks.count - 1
            let link = CommandAPDU(
                cla: last ? command.cla : command.cla | 0x10,
                ins: command.ins,
                p1: command.p1,
                p2: command.p2,
                data: chunk,
                expectsResponse: last && command.expectsResponse
            )
            response = try ResponseAPDU(received: self.transport.transmit(link.encoded), reader: self.reader)
            if !last, !response.isSuccess {
                return response
            }
        }
        if response.sw1 == StatusWord.wrongLengthSW1, let last = chunks.last {
            // 6CXX: the card wants Le = XX exactly.
            var octets = CommandAPDU(
                cla: command.cla,
                ins: command.ins,
                p1: command.p1,
                p2: command.p2,
                data: last,
                expectsResponse: false
            ).encoded
            octets.append(response.sw2)
            response = try ResponseAPDU(received: self.transport.transmit(octets), reader: self.reader)
        }
        var data = response.data
        var rounds = 0
        while response.sw1 == StatusWord.moreDataSW1 {
            rounds += 1
            guard rounds <= 256 else {
                throw SmartCardError(
                    code: .malformedResponse,
                    reason: "the card in \"\(self.reader)\" kept answering 61XX (more data) past 64 KiB"
                )
            }
            // GET RESPONSE (ISO/IEC 7816-4 §7.6.1), Le = the count the card announced (00 = 256).
            let octets: [UInt8] = [0x00, 0xC0, 0x00, 0x00, response.sw2]
            response = try ResponseAPDU(received: self.transport.transmit(octets), reader: self.reader)
            data += response.data
        }
        return ResponseAPDU(data: data, statusWord: response.statusWord)
    }

    /// SELECT the PIV Card Application (SP 800-73-4 Part 2 §3.1.1).
    ///
    /// - Returns: The application property template (tag `61`) the card answers.
    /// - Throws: ``SmartCardError/ErrorCode/notPIV`` when the card does not have the application.
    @discardableResult
    package func select() throws(SmartCardError) -> [UInt8] {
        let response = try self.send(
            CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x00, data: pivApplicationID, expectsResponse: true)
        )
        guard response.isSuccess else {
            throw SmartCardError(
                code: .notPIV,
                reason: """
                    the card in "\(self.reader)" has no PIV application: SELECT of \(hexString(pivApplicationID)) \
                    answered \(StatusWord.describe(response.statusWord)); use a PIV card or another reader
                    """,
                statusWord: response.statusWord
            )
        }
        return response.data
    }

    /// GET DATA of the data object `tag` (SP 800-73-4 Part 2 §3.1.2).
    ///
    /// - Returns: The content of the answer's outer object (tag `53`, or `7E` for discovery), or `nil`
    ///   when the card does not hold the object (`6A82`).
    package func getData(_ tag: [UInt8]) throws(SmartCardError) -> [UInt8]? {
        let request = BERTLV(tag: [0x5C], value: tag).encoded
        let response = try self.send(
            CommandAPDU(ins: 0xCB, p1: 0x3F, p2: 0xFF, data: request, expectsResponse: true)
        )
        if response.statusWord == StatusWord.notFound { return nil }
        guard response.isSuccess else {
            throw SmartCardError(
                code: .commandFailed,
                reason: """
                    the card in "\(self.reader)" refused GET DATA of \(hexString(tag)): \
                    \(StatusWord.describe(response.statusWord))
                    """,
                statusWord: response.statusWord
            )
        }
        guard response.data.isEmpty == false else { return nil }
        guard let objects = BERTLV.parseAll(response.data[...]), let outer = objects.first else {
            throw SmartCardError(
                code: .malformedResponse,
                reason: "the card in \"\(self.reader)\" answered GET DATA of \(hexString(tag)) with a broken TLV"
            )
        }
        return outer.value
    }

    /// The certificate of `key` from its data object (GET DATA `5FC105` for 9A, `5FC10A` for 9C, `5FC10B`
    /// for 9D, `5FC101` for 9E), inflated when the card stores it gzip-compressed.
    ///
    /// - Returns: `nil` when the card has no such object (`6A82`).
    /// - Throws: ``SmartCardError/ErrorCode/certificateNotFound`` for an object without a certificate,
    ///   ``SmartCardError/ErrorCode/malformedResponse`` for a broken one.
    package func certificate(for key: PIVKeyReference) throws(SmartCardError) -> Certificate? {
        guard let content = try self.getData(key.certificateObjectTag) else { return nil }
        return try PIVCertificateObject.certificate(from: content, key: key, reader: self.reader)
    }

    /// VERIFY without data: the PIN's state, without presenting it.
    package func pinStatus() throws(SmartCardError) -> PIVPINStatus {
        let response = try self.send(CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80, expectsResponse: false))
        switch response.statusWord {
        case StatusWord.success:
            return .verified
        case StatusWord.authenticationBlocked:
            return .blocked
        case let word where word & StatusWord.retriesMask == StatusWord.retries:
            let left = Int(word & 0x0F)
            return left == 0 ? .blocked : .retriesLeft(left)
        default:
            throw SmartCardError(
                code: .commandFailed,
                reason: """
                    the card in "\(self.reader)" answered the PIN status query (VERIFY without data) with \
                    \(StatusWord.describe(response.statusWord))
                    """,
                statusWord: response.statusWord
            )
        }
    }

    /// VERIFY of the PIV Card Application PIN (key reference `80`), padded with `FF` to 8 octets.
    ///
    /// - Throws: ``SmartCardError/ErrorCode/pinRejected`` with ``SmartCardError/retriesLeft`` on `63CX`,
    ///   ``SmartCardError/ErrorCode/pinBlocked`` on `6983` or when no try is left.
    package func verify(pin: [UInt8]) throws(SmartCardError) {
        guard (6...8).contains(pin.count) else {
            throw SmartCardError(
                code: .invalidConfiguration,
                reason: "the PIN has \(pin.count) characters; a PIV PIN has 6 to 8 (SP 800-73-4): fix the PIN source"
            )
        }
        var data = pin + [UInt8](repeating: 0xFF, count: 8 - pin.count)
        defer {
            for index in data.indices {
                data[index] = 0
            }
        }
        let response = try self.send(CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80, data: data, expectsResponse: false))
        switch response.statusWord {
        case StatusWord.success:
            return
        case StatusWord.authenticationBlocked:
            throw Self.blocked(self.reader, statusWord: response.statusWord)
        case let word where word & StatusWord.retriesMask == StatusWord.retries:
            let left = Int(word & 0x0F)
            if left == 0 {
                throw Self.blocked(self.reader, statusWord: word)
            }
            throw SmartCardError(
                code: .pinRejected,
                reason: """
                    the card in "\(self.reader)" rejected the PIN; \(left) \(left == 1 ? "try" : "tries") left \
                    before it blocks. Fix the PIN source; Sigillum does not try the PIN again
                    """,
                statusWord: word,
                retriesLeft: left
            )
        default:
            throw SmartCardError(
                code: .commandFailed,
                reason: "the card in \"\(self.reader)\" refused VERIFY: \(StatusWord.describe(response.statusWord))",
                statusWord: response.statusWord
            )
        }
    }

    static func blocked(_ reader: String, statusWord: UInt16?) -> SmartCardError {
        SmartCardError(
            code: .pinBlocked,
            reason: """
                the PIN of the card in "\(reader)" is blocked (no tries left); unblock it with the PUK \
                (yubico-piv-tool -a unblock-pin, or the card vendor's tool) and restart the signer
                """,
            statusWord: statusWord,
            retriesLeft: 0
        )
    }

    /// GENERAL AUTHENTICATE (SP 800-73-4 Part 2 §3.2.4) asking the key `key` to sign `input`: the
    /// digest for ECC, the padded block for RSA.
    ///
    /// The command's dynamic authentication template is `7C { 82 00, 81 input }`; the card answers
    /// `7C { 82 signature }`: a DER `ECDSA-Sig-Value` for ECC, the RSA result as long as the modulus.
    package func authenticate(
        algorithm: PIVAlgorithm,
        key: PIVKeyReference,
        input: [UInt8]
    ) throws(SmartCardError) -> [UInt8] {
        let template = BERTLV(
            tag: [0x7C],
            value: BERTLV(tag: [0x82], value: []).encoded + BERTLV(tag: [0x81], value: input).encoded
        ).encoded
        let response = try self.send(
            CommandAPDU(
                ins: 0x87,
                p1: algorithm.rawValue,
                p2: key.rawValue,
                data: template,
                expectsResponse: true
            )
        )
        guard response.isSuccess else {
            let hint =
                response.statusWord == StatusWord.securityStatusNotSatisfied
                ? "; the key wants the PIN more often: set the PIN policy to every signature"
                : ""
            throw SmartCardError(
                code: .commandFailed,
                reason: """
                    the card in "\(self.reader)" refused to sign with key \(key) (\(algorithm.name)): \
                    \(StatusWord.describe(response.statusWord))\(hint)
                    """,
                statusWord: response.statusWord
            )
        }
        guard let outer = BERTLV.parseAll(response.data[...]), let template = BERTLV.first([0x7C], in: outer),
            let inner = BERTLV.parseAll(template[...]), let signature = BERTLV.first([0x82], in: inner),
            !signature.isEmpty
        else {
            throw SmartCardError(
                code: .malformedResponse,
                reason: """
                    the card in "\(self.reader)" answered GENERAL AUTHENTICATE without a signature (7C/82) in its \
                    response template
                    """
            )
        }
        return signature
    }
}
