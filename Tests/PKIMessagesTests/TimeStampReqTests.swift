import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// One `openssl ts -query` invocation and what the request must hold.
struct OpenSSLQuery: Sendable, CustomTestStringConvertible {
    /// The digest flag without its dash (`sha3-256`), also the name `-text` prints and `openssl dgst` takes.
    var digest: String
    var algorithm: ASN1ObjectIdentifier
    var digestLength: Int
    var nonce = true
    var certReq = false
    var policy: String?

    var arguments: [String] {
        var arguments = ["ts", "-query", "-data", "data.bin", "-\(self.digest)"]
        if !self.nonce { arguments.append("-no_nonce") }
        if self.certReq { arguments.append("-cert") }
        if let policy { arguments += ["-tspolicy", policy] }
        return arguments + ["-out", "req.tsq"]
    }

    var testDescription: String { "openssl " + self.arguments.joined(separator: " ") }

    static let all: [OpenSSLQuery] = [
        OpenSSLQuery(digest: "sha256", algorithm: .HashAlgorithm.sha256, digestLength: 32),
        OpenSSLQuery(digest: "sha384", algorithm: .HashAlgorithm.sha384, digestLength: 48),
        OpenSSLQuery(digest: "sha512", algorithm: .HashAlgorithm.sha512, digestLength: 64),
        OpenSSLQuery(digest: "sha3-256", algorithm: .HashAlgorithm.sha3_256, digestLength: 32),
        OpenSSLQuery(digest: "sha1", algorithm: .HashAlgorithm.sha1, digestLength: 20),
        OpenSSLQuery(digest: "sha256", algorithm: .HashAlgorithm.sha256, digestLength: 32, nonce: false),
        OpenSSLQuery(digest: "sha1", algorithm: .HashAlgorithm.sha1, digestLength: 20, nonce: false),
        OpenSSLQuery(digest: "sha256", algorithm: .HashAlgorithm.sha256, digestLength: 32, certReq: true),
        OpenSSLQuery(digest: "sha256", algorithm: .HashAlgorithm.sha256, digestLength: 32, policy: "1.2.3.4"),
        OpenSSLQuery(
            digest: "sha512",
            algorithm: .HashAlgorithm.sha512,
            digestLength: 64,
            nonce: false,
            certReq: true,
            policy: "1.2.3.4"
        ),
    ]
}

@Suite("TimeStampReq")
struct TimeStampReqTests {
    // MARK: Requests made by openssl ts -query

    @Test(
        "a request made by openssl ts -query parses field by field and re-encodes identically",
        arguments: OpenSSLQuery.all)
    func opensslRequest(_ query: OpenSSLQuery) throws {
        try withTemporaryDirectory { directory in
            try writeFile("Sigillum \(query.testDescription)\n", named: "data.bin", in: directory)
            try openssl(query.arguments, in: directory)
            let encoded = try readFile(named: "req.tsq", in: directory)
            let text = opensslTextFields(try openssl(["ts", "-query", "-in", "req.tsq", "-text"], in: directory))
            let digest = try opensslDigest(query.digest, ofFile: "data.bin", in: directory)

            let request = try assertReencodes(TimeStampReq.self, encoded)

            #expect(request.version == 1)
            #expect(text["Version"] == "1")
            #expect(request.messageImprint.hashAlgorithm.algorithm == query.algorithm)
            #expect(text["Hash Algorithm"] == query.digest)
            // openssl always writes NULL parameters for the imprint algorithm.
            #expect(request.messageImprint.hashAlgorithm.parameters == AlgorithmIdentifier.nullParameters)
            #expect(Array(request.messageImprint.hashedMessage) == digest)
            #expect(request.messageImprint.hashedMessage.count == query.digestLength)

            if let policy = query.policy {
                #expect(request.reqPolicy == (try ASN1ObjectIdentifier(dotRepresentation: policy)))
                #expect(text["Policy OID"] == policy)
            } else {
                #expect(request.reqPolicy == nil)
                #expect(text["Policy OID"] == "unspecified")
            }

            if query.nonce {
                let nonce = try #require(request.nonce)
                let printed = try #require(text["Nonce"])
                #expect(printed.hasPrefix("0x"))
                // openssl makes a positive 64-bit nonce and prints its magnitude; the INTEGER carries a leading 00
                // when the top bit is set.
                #expect(!nonce.isNegative)
                #expect(minimalMagnitude(nonce.contentOctets) == bytes(fromHex: printed))
                #expect(nonce.contentOctets == DERInteger(unsignedMagnitude: bytes(fromHex: printed)).contentOctets)
            } else {
                #expect(request.nonce == nil)
                #expect(text["Nonce"] == "unspecified")
            }

            #expect(request.certReq == query.certReq)
            #expect(text["Certificate required"] == (query.certReq ? "yes" : "no"))
            #expect(request.extensions == nil)
        }
    }

    // MARK: Hand-built requests

    @Test("NULL and absent imprint-algorithm parameters both survive byte for byte", arguments: [true, false])
    func imprintParameters(nullParameters: Bool) throws {
        let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(nullParameters: nullParameters))
        let request = try assertReencodes(TimeStampReq.self, encoded)
        let algorithm = request.messageImprint.hashAlgorithm
        #expect(algorithm.algorithm == .HashAlgorithm.sha256)
        #expect(algorithm.parameters == (nullParameters ? AlgorithmIdentifier.nullParameters : nil))
        #expect(algorithm.hasAbsentOrNullParameters)
        // The imprint alone, as the TSA copies it into TSTInfo.
        #expect(hex(try derBytes(request.messageImprint)) == hex(Vector.imprint(nullParameters: nullParameters)))
    }

    @Test("AlgorithmIdentifier: absent parameters, NULL, and other parameters")
    func algorithmIdentifierParameters() throws {
        let absent = AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256)
        #expect(hex(try assertRoundTrips(absent)) == "30 0B 06 09 60 86 48 01 65 03 04 02 01")
        let null = AlgorithmIdentifier(algorithm: .HashAlgorithm.sha256, parameters: AlgorithmIdentifier.nullParameters)
        #expect(hex(try assertRoundTrips(null)) == "30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00")
        #expect(absent != null)
        let other = AlgorithmIdentifier(
            algorithm: .HashAlgorithm.sha256,
            parameters: try ASN1Any(erasing: ASN1OctetString(contentBytes: [1]))
        )
        #expect(hex(try assertRoundTrips(other)) == "30 0E 06 09 60 86 48 01 65 03 04 02 01 04 01 01")
        #expect(absent.hasAbsentOrNullParameters)
        #expect(null.hasAbsentOrNullParameters)
        #expect(!other.hasAbsentOrNullParameters)
    }

    /// Nonces whose content octets must come back exactly: negative, zero, one octet with the top bit set, 40 octets.
    static let nonces: [[UInt8]] = [
        [0xFF],  // -1
        [0x80],  // -128
        [0xFF, 0x7F],  // -129
        [0x00],  // 0
        [0x00, 0x80],  // 128
        Array(1...40),  // 40 octets
    ]

    @Test("nonces round-trip exactly whatever their sign or length", arguments: nonces)
    func nonceRoundTrip(content: [UInt8]) throws {
        let nonce = tlv(0x02, content)
        let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), nonce)
        let request = try assertReencodes(TimeStampReq.self, encoded)
        let parsed = try #require(request.nonce)
        #expect(Array(parsed.contentOctets) == content)
        #expect(parsed.isNegative == (content[0] & 0x80 != 0))
        #expect(parsed.hexString == hex(content, separator: ""))

        let built = TimeStampReq(
            messageImprint: request.messageImprint,
            nonce: try DERInteger(derIntegerBytes: content[...])
        )
        #expect(hex(try assertRoundTrips(built)) == hex(encoded))
    }

    @Test("a non-minimal nonce is not DER and fails to parse")
    func nonMinimalNonce() throws {
        for content: [UInt8] in [[0x00, 0x01], [0xFF, 0x80]] {
            let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), tlv(0x02, content))
            #expect(throws: (any Error).self) { try TimeStampReq(derEncoded: encoded) }
        }
    }

    @Test("a locally built request with every field encodes byte for byte")
    func builtRequest() throws {
        let request = TimeStampReq(
            messageImprint: try MessageImprint(derEncoded: Vector.imprint()),
            reqPolicy: [1, 2, 3, 4],
            nonce: DERInteger(unsignedMagnitude: [0x00, 0x00, 0x9C, 0x01]),
            certReq: true,
            extensions: [Certificate.Extension(oid: [1, 2, 3, 5], critical: true, value: [0x05, 0x00])]
        )
        let expected = tlv(
            0x30,
            [0x02, 0x01, 0x01],
            Vector.imprint(),
            bytes(fromHex: "06 03 2A 03 04"),
            bytes(fromHex: "02 03 00 9C 01"),
            bytes(fromHex: "01 01 FF"),
            tlv(0xA0, tlv(0x30, bytes(fromHex: "06 03 2A 03 05 01 01 FF 04 02 05 00")))
        )
        #expect(hex(try assertRoundTrips(request)) == hex(expected))
    }

    @Test("trailing bytes after the request fail to parse", arguments: [[0x00], [0x30, 0x00], [0x02, 0x01, 0x01]])
    func trailingBytes(trailer: [UInt8]) throws {
        let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint())
        #expect(try TimeStampReq(derEncoded: encoded).version == 1)
        #expect(throws: (any Error).self) { try DER.parse(encoded + trailer) }
        #expect(throws: (any Error).self) { try TimeStampReq(derEncoded: encoded + trailer) }
    }

    @Test("an explicit certReq FALSE is accepted and re-encodes without it")
    func explicitCertReqFalse() throws {
        let withoutCertReq = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x02, 0x01, 0x07])
        let withFalse = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x02, 0x01, 0x07], [0x01, 0x01, 0x00])
        let request = try TimeStampReq(derEncoded: withFalse)
        #expect(request.certReq == false)
        #expect(request.nonce?.contentOctets == [0x07])
        #expect(hex(try derBytes(request)) == hex(withoutCertReq))
        #expect(request == (try TimeStampReq(derEncoded: withoutCertReq)))
    }

    @Test("certReq TRUE must be encoded as FF")
    func nonDERTrue() throws {
        let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x01, 0x01, 0x01])
        #expect(throws: (any Error).self) { try TimeStampReq(derEncoded: encoded) }
        let der = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x01, 0x01, 0xFF])
        #expect(try assertReencodes(TimeStampReq.self, der).certReq)
    }

    @Test("[0] IMPLICIT extensions are parsed and re-encoded")
    func requestExtensions() throws {
        // Extension ::= SEQUENCE { extnID 1.2.3.5, critical TRUE, extnValue OCTET STRING { NULL } }, and a second,
        // non-critical one with extnID 1.3.6.1.5.5.7.1.3 whose BOOLEAN is absent.
        let first = tlv(0x30, bytes(fromHex: "06 03 2A 03 05"), [0x01, 0x01, 0xFF], tlv(0x04, Vector.null))
        let second = tlv(0x30, bytes(fromHex: "06 08 2B 06 01 05 05 07 01 03"), tlv(0x04, [0x30, 0x00]))
        let encoded = tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), tlv(0xA0, first, second))
        let request = try assertReencodes(TimeStampReq.self, encoded)
        let extensions = try #require(request.extensions)
        #expect(extensions.count == 2)
        #expect(extensions.first?.oid == [1, 2, 3, 5])
        #expect(extensions.first?.critical == true)
        #expect(extensions.first.map { Array($0.value) } == Vector.null)
        #expect(extensions.last?.oid == .QCStatement.extensionID)
        #expect(extensions.last?.critical == false)
        #expect(extensions.last.map { Array($0.value) } == [0x30, 0x00])
    }

    @Test(
        "unknown or misplaced fields fail to parse",
        arguments: [
            // an unknown [1] after the extensions
            tlv(
                0x30, [0x02, 0x01, 0x01], Vector.imprint(),
                tlv(0xA0, tlv(0x30, bytes(fromHex: "06 03 2A 03 05 04 00"))), [0x81, 0x01, 0x00]),
            // an unknown trailing field without extensions
            tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x02, 0x01, 0x07], [0x0C, 0x01, 0x41]),
            // the nonce before the policy
            tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x02, 0x01, 0x07], bytes(fromHex: "06 03 2A 03 04")),
            // certReq before the nonce
            tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x01, 0x01, 0xFF], [0x02, 0x01, 0x07]),
            // no messageImprint
            tlv(0x30, [0x02, 0x01, 0x01]),
            // extensions as [0] primitive
            tlv(0x30, [0x02, 0x01, 0x01], Vector.imprint(), [0x80, 0x00]),
            // a SET instead of a SEQUENCE
            tlv(0x31, [0x02, 0x01, 0x01], Vector.imprint()),
        ]
    )
    func malformed(encoded: [UInt8]) throws {
        #expect(throws: (any Error).self) { try TimeStampReq(derEncoded: encoded) }
    }

    @Test("version 2 parses (the TSA rejects it, not the parser)")
    func version2() throws {
        let encoded = tlv(0x30, [0x02, 0x01, 0x02], Vector.imprint())
        let request = try assertReencodes(TimeStampReq.self, encoded)
        #expect(request.version == 2)
    }
}
