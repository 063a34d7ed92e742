import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

/// Hand-built OCSP vectors, written with the independent `tlv` writer of Support.swift.
enum OCSPVector {
    /// `OBJECT IDENTIFIER 1.3.14.3.2.26` (id-sha1).
    static let sha1OID = bytes(fromHex: "06 05 2B 0E 03 02 1A")
    /// `OBJECT IDENTIFIER 1.3.6.1.5.5.7.48.1.2` (id-pkix-ocsp-nonce).
    static let nonceOID = bytes(fromHex: "06 09 2B 06 01 05 05 07 30 01 02")
    /// `OBJECT IDENTIFIER 1.3.6.1.5.5.7.48.1.1` (id-pkix-ocsp-basic).
    static let basicOID = bytes(fromHex: "06 09 2B 06 01 05 05 07 30 01 01")

    /// A GeneralizedTime TLV: `18 0F` and the text.
    static func time(_ text: String) -> [UInt8] { tlv(0x18, Array(text.utf8)) }

    static let thisUpdate = time("20261125102030Z")
    static let nextUpdate = time("20261202102030Z")

    /// A SHA-1 CertID, with or without NULL parameters.
    static func certID(nullParameters: Bool = true, serial: [UInt8] = [0x10, 0x01]) -> [UInt8] {
        tlv(
            0x30,
            tlv(0x30, sha1OID, nullParameters ? Vector.null : []),
            tlv(0x04, [UInt8](repeating: 0x11, count: 20)),
            tlv(0x04, [UInt8](repeating: 0x22, count: 20)),
            tlv(0x02, serial)
        )
    }

    /// `CN=Sigillum OCSP` as a Name.
    static let name = tlv(
        0x30, tlv(0x31, tlv(0x30, bytes(fromHex: "06 03 55 04 03"), tlv(0x0C, Array("Sigillum OCSP".utf8)))))

    static let keyHash = [UInt8](repeating: 0x33, count: 20)

    /// A nonce extension: extnValue is the DER of an OCTET STRING holding `octets`.
    static func nonceExtension(_ octets: [UInt8]) -> [UInt8] {
        tlv(0x30, nonceOID, tlv(0x04, tlv(0x04, octets)))
    }

    static let nonce = [UInt8](0x40..<0x50)
}

@Suite("OCSP messages, byte for byte")
struct OCSPMessageTests {
    // MARK: OCSPResponse and its status

    @Test("an error response is five octets, parses as that status and re-encodes", arguments: OCSPErrorVector.all)
    func errorResponseBytes(_ vector: OCSPErrorVector) throws {
        #expect(hex(OCSPResponse.unsuccessful(vector.status)) == vector.der)
        let parsed = try assertReencodes(OCSPResponse.self, bytes(fromHex: vector.der))
        #expect(parsed == .error(vector.status))
        #expect(parsed.responseStatus == vector.status)
        #expect(parsed.responseBytes == nil)
        #expect(try parsed.basicResponse() == nil)
        #expect(hex(try derBytes(OCSPResponse.error(vector.status))) == vector.der)
    }

    @Test("a status defined later survives parsing; 4 (not used) and negative statuses are refused")
    func openStatusSet() throws {
        let later = try assertReencodes(OCSPResponse.self, bytes(fromHex: "30 03 0A 01 07"))
        #expect(later == .error(OCSPResponseStatus(rawValue: 7)))
        #expect(hex(OCSPResponse.unsuccessful(OCSPResponseStatus(rawValue: 200))) == "30 04 0A 02 00 C8")
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 03 0A 01 04")) }
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 03 0A 01 FF")) }
        #expect(throws: ASN1Error.self) { try derBytes(OCSPResponse.error(OCSPResponseStatus(rawValue: 4))) }
        // An INTEGER is not an ENUMERATED.
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 03 02 01 01")) }
    }

    @Test("status and payload must agree")
    func statusAndPayloadAgree() throws {
        let payload = tlv(0xA0, tlv(0x30, OCSPVector.basicOID, tlv(0x04, [0x30, 0x00])))
        // successful without responseBytes
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 03 0A 01 00")) }
        // an error status with responseBytes
        #expect(throws: ASN1Error.self) {
            try OCSPResponse(derEncoded: tlv(0x30, bytes(fromHex: "0A 01 01"), payload))
        }
        // successful with them: the payload is kept as octets until asked for
        let parsed = try assertReencodes(OCSPResponse.self, tlv(0x30, bytes(fromHex: "0A 01 00"), payload))
        #expect(parsed.responseBytes == ResponseBytes(responseType: .OCSP.basicResponse, response: [0x30, 0x00]))
        #expect(throws: ASN1Error.self) { try parsed.basicResponse() }
        // `.error(.successful)` cannot be written
        #expect(throws: ASN1Error.self) { try derBytes(OCSPResponse.error(.successful)) }
    }

    @Test("trailing bytes are refused, after the response and inside it")
    func trailingBytes() throws {
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 03 0A 01 01 00")) }
        #expect(throws: ASN1Error.self) { try OCSPResponse(derEncoded: bytes(fromHex: "30 05 0A 01 01 05 00")) }
        let request = tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x30, OCSPVector.certID()))))
        _ = try assertReencodes(OCSPRequest.self, request)
        #expect(throws: ASN1Error.self) { try OCSPRequest(derEncoded: request + [0x00]) }
        #expect(throws: ASN1Error.self) { try CertID(derEncoded: OCSPVector.certID() + [0x05, 0x00]) }
    }

    @Test("unsuccessful(.successful) is a programmer error and traps")
    func unsuccessfulSuccessfulTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = OCSPResponse.unsuccessful(.successful)
        }
    }

    @Test("a response from a parsed response type other than basic is kept; basicResponse() refuses it")
    func otherResponseType() throws {
        let other = tlv(0x30, bytes(fromHex: "06 03 2A 03 04"), tlv(0x04, [0x01, 0x02]))
        let bytes = try assertReencodes(ResponseBytes.self, other)
        #expect(bytes.responseType == [1, 2, 3, 4])
        #expect(throws: ASN1Error.self) { try bytes.basicResponse() }
    }

    // MARK: CertStatus, RevokedInfo, CRLReason

    @Test("CertStatus: good is 80 00, unknown 82 00, revoked A1 with the RevokedInfo content")
    func certStatusBytes() throws {
        #expect(hex(try assertRoundTrips(CertStatus.good)) == "80 00")
        #expect(hex(try assertRoundTrips(CertStatus.unknown)) == "82 00")
        let time = try GeneralizedTimeText("20261124091929Z")
        let withReason = CertStatus.revoked(RevokedInfo(revocationTime: time, revocationReason: .keyCompromise))
        expectSameBytes(
            try assertRoundTrips(withReason), tlv(0xA1, OCSPVector.time(time.text), bytes(fromHex: "A0 03 0A 01 01")))
        #expect(hex(try derBytes(withReason)).hasSuffix("A0 03 0A 01 01"))
        #expect(hex(try derBytes(withReason)).hasPrefix("A1 16 18 0F"))
        let withoutReason = CertStatus.revoked(RevokedInfo(revocationTime: time))
        expectSameBytes(try assertRoundTrips(withoutReason), tlv(0xA1, OCSPVector.time(time.text)))
        // NULL with content, a constructed good, an untagged NULL and [3] are refused.
        for bad in ["80 01 00", "A0 00", "05 00", "83 00"] {
            #expect(throws: ASN1Error.self, "\(bad)") { try CertStatus(derEncoded: bytes(fromHex: bad)) }
        }
    }

    @Test(
        "CRLReason: every defined value round-trips; a later value survives",
        arguments: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11])
    func crlReasonValues(_ value: Int) throws {
        let reason = CRLReason(rawValue: value)
        #expect(try assertRoundTrips(reason) == [0x0A, 0x01, UInt8(value)])
        let info = RevokedInfo(revocationTime: try GeneralizedTimeText("20261124091929Z"), revocationReason: reason)
        #expect(try assertRoundTrips(info).suffix(5) == [0xA0, 0x03, 0x0A, 0x01, UInt8(value)])
        #expect(reason.description.hasPrefix("unknown") == (value == 11), "\(reason)")
    }

    @Test("CRLReason 7 (not used) is refused in parsing and in serializing")
    func crlReasonSeven() throws {
        #expect(throws: ASN1Error.self) { try CRLReason(derEncoded: [0x0A, 0x01, 0x07]) }
        #expect(throws: ASN1Error.self) { try derBytes(CRLReason(rawValue: 7)) }
        let revoked = tlv(0xA1, OCSPVector.time("20261124091929Z"), bytes(fromHex: "A0 03 0A 01 07"))
        #expect(throws: ASN1Error.self) { try CertStatus(derEncoded: revoked) }
        #expect(throws: ASN1Error.self) { try CRLReason(derEncoded: [0x0A, 0x01, 0xFF]) }
        #expect(CRLReason.keyCompromise.description == "keyCompromise")
        #expect(CRLReason.caCompromise.description == "cACompromise")
    }

    // MARK: ResponderID

    @Test("ResponderID: byName is A1 around the Name, byKey A2 16 04 14 around the hash")
    func responderIDBytes() throws {
        let byName = try assertReencodes(ResponderID.self, tlv(0xA1, OCSPVector.name))
        guard case .byName(let name) = byName else {
            Issue.record("\(byName) is not byName")
            return
        }
        expectSameBytes(try derBytes(name), OCSPVector.name, "the Name")
        #expect(hex(try derBytes(byName)).hasPrefix("A1 1A 30 18"))

        let byKey = ResponderID.byKey(OCSPVector.keyHash[...])
        #expect(hex(try assertRoundTrips(byKey)) == "A2 16 04 14 " + hex(OCSPVector.keyHash))
        // IMPLICIT forms, an empty tag and other tags are refused.
        for bad in [
            tlv(0x82, OCSPVector.keyHash), tlv(0xA2), tlv(0xA3, tlv(0x04, OCSPVector.keyHash)), OCSPVector.name,
        ] {
            #expect(throws: ASN1Error.self, "\(hex(bad))") { try ResponderID(derEncoded: bad) }
        }
    }

    // MARK: SingleResponse, ResponseData, BasicOCSPResponse

    @Test("SingleResponse: nextUpdate is A0 11 18 0F …, singleExtensions A1")
    func singleResponseBytes() throws {
        let certID = try CertID(derEncoded: OCSPVector.certID())
        let single = SingleResponse(
            certID: certID,
            certStatus: .good,
            thisUpdate: try GeneralizedTimeText("20261125102030Z"),
            nextUpdate: try GeneralizedTimeText("20261202102030Z")
        )
        let expected = tlv(
            0x30, OCSPVector.certID(), [0x80, 0x00], OCSPVector.thisUpdate, tlv(0xA0, OCSPVector.nextUpdate))
        expectSameBytes(try assertRoundTrips(single), expected, "SingleResponse")
        #expect(hex(tlv(0xA0, OCSPVector.nextUpdate)).hasPrefix("A0 11 18 0F"))

        var withExtension = single
        withExtension.nextUpdate = nil
        withExtension.singleExtensions = [OCSPExtendedRevoke().makeCertificateExtension()]
        let extensionBytes = bytes(fromHex: "30 0F 06 09 2B 06 01 05 05 07 30 01 09 04 02 05 00")
        expectSameBytes(
            try assertRoundTrips(withExtension),
            tlv(0x30, OCSPVector.certID(), [0x80, 0x00], OCSPVector.thisUpdate, tlv(0xA1, tlv(0x30, extensionBytes))),
            "SingleResponse with singleExtensions")
        // An IMPLICIT nextUpdate is refused.
        let implicit = tlv(
            0x30, OCSPVector.certID(), [0x80, 0x00], OCSPVector.thisUpdate, tlv(0x80, Array("20261202102030Z".utf8)))
        #expect(throws: ASN1Error.self) { try SingleResponse(derEncoded: implicit) }
    }

    static func responseData(version: Int = ResponseData.v1, extensions: [Certificate.Extension]? = nil) throws
        -> ResponseData
    {
        ResponseData(
            version: version,
            responderID: .byKey(OCSPVector.keyHash[...]),
            producedAt: try GeneralizedTimeText("20261125102030Z"),
            responses: [
                SingleResponse(
                    certID: try CertID(derEncoded: OCSPVector.certID()), certStatus: .unknown,
                    thisUpdate: try GeneralizedTimeText("20261125102030Z"))
            ],
            responseExtensions: extensions
        )
    }

    static let singleResponseBytes = tlv(0x30, OCSPVector.certID(), [0x82, 0x00], OCSPVector.thisUpdate)

    @Test("ResponseData: v1 is never written; another version is [0] EXPLICIT; an explicit v1 is refused")
    func responseDataVersion() throws {
        let responderID = tlv(0xA2, tlv(0x04, OCSPVector.keyHash))
        let body = responderID + OCSPVector.thisUpdate + tlv(0x30, Self.singleResponseBytes)
        expectSameBytes(try assertRoundTrips(Self.responseData()), tlv(0x30, body), "ResponseData v1")
        let v2 = try assertRoundTrips(Self.responseData(version: 1))
        expectSameBytes(v2, tlv(0x30, bytes(fromHex: "A0 03 02 01 01") + body), "ResponseData version 1")
        #expect(throws: ASN1Error.self) {
            try ResponseData(derEncoded: tlv(0x30, bytes(fromHex: "A0 03 02 01 00") + body))
        }
    }

    @Test("ResponseData: the nonce is echoed as responseExtensions [1]; empty or doubled extensions are refused")
    func responseDataNonce() throws {
        let nonce = OCSPNonce(octets: OCSPVector.nonce)
        let data = try Self.responseData(extensions: [nonce.makeCertificateExtension()])
        let encoded = try assertRoundTrips(data)
        let tail = tlv(0xA1, tlv(0x30, OCSPVector.nonceExtension(OCSPVector.nonce)))
        expectSameBytes(encoded.suffix(tail.count), tail, "responseExtensions")
        #expect(try ResponseData(derEncoded: encoded).nonce == nonce)

        let responderID = tlv(0xA2, tlv(0x04, OCSPVector.keyHash))
        let body = responderID + OCSPVector.thisUpdate + tlv(0x30, Self.singleResponseBytes)
        #expect(throws: ASN1Error.self) { try ResponseData(derEncoded: tlv(0x30, body + tlv(0xA1, tlv(0x30)))) }
        let doubled = tlv(0xA1, tlv(0x30, OCSPVector.nonceExtension([1]), OCSPVector.nonceExtension([2])))
        #expect(throws: ASN1Error.self) { try ResponseData(derEncoded: tlv(0x30, body + doubled)) }
        // An empty list is not written at all.
        expectSameBytes(try derBytes(Self.responseData(extensions: [])), tlv(0x30, body), "no empty extensions")
    }

    @Test("BasicOCSPResponse keeps the signed bytes; both initialisers agree; certs are [0] EXPLICIT SEQUENCE OF")
    func basicResponseBytes() throws {
        let data = try Self.responseData()
        let algorithm = AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256)
        let signature = ASN1BitString(bytes: [0x01, 0x02, 0x03])
        let certificate = RawDER(trustedEncoding: tlv(0x30, [0x05, 0x00])[...])
        let built = try BasicOCSPResponse(
            tbsResponseData: data, signatureAlgorithm: algorithm, signature: signature, certs: [certificate])
        let encoded = try assertRoundTrips(built)
        let dataBytes = try derBytes(data)
        let expected = tlv(
            0x30, dataBytes, tlv(0x30, bytes(fromHex: "06 08 2A 86 48 CE 3D 04 03 02")),
            bytes(fromHex: "03 04 00 01 02 03"), tlv(0xA0, tlv(0x30, [0x30, 0x02, 0x05, 0x00])))
        expectSameBytes(encoded, expected, "BasicOCSPResponse")
        expectSameBytes(built.tbsResponseDataBytes.bytes, dataBytes, "tbsResponseDataBytes")
        let fromBytes = try BasicOCSPResponse(
            tbsResponseDataBytes: built.tbsResponseDataBytes, signatureAlgorithm: algorithm, signature: signature,
            certs: [certificate])
        #expect(fromBytes == built)
        #expect(throws: ASN1Error.self) {
            try BasicOCSPResponse(
                tbsResponseDataBytes: RawDER(trustedEncoding: [0x30, 0x00]), signatureAlgorithm: algorithm,
                signature: signature)
        }

        // The received bytes are what is kept and re-emitted, even when they are not how PKIMessages would encode
        // the value: a GeneralizedTime with a fraction survives.
        let fractional = tlv(
            0x30, tlv(0xA2, tlv(0x04, OCSPVector.keyHash)), OCSPVector.time("20261125102030.5Z"),
            tlv(0x30, Self.singleResponseBytes))
        let response = tlv(
            0x30, fractional, tlv(0x30, bytes(fromHex: "06 08 2A 86 48 CE 3D 04 03 02")), [0x03, 0x01, 0x00])
        let parsed = try assertReencodes(BasicOCSPResponse.self, response)
        expectSameBytes(parsed.tbsResponseDataBytes.bytes, fractional, "tbsResponseDataBytes as received")
        #expect(parsed.tbsResponseData.producedAt.isWholeSeconds == false)
        #expect(parsed.certs == nil)

        // The whole OCSPResponse around it.
        let ocsp = try OCSPResponse(basicResponse: built)
        let outer = try assertRoundTrips(ocsp)
        expectSameBytes(
            outer, tlv(0x30, [0x0A, 0x01, 0x00], tlv(0xA0, tlv(0x30, OCSPVector.basicOID, tlv(0x04, encoded)))),
            "OCSPResponse")
        #expect(try ocsp.basicResponse() == built)
    }

    // MARK: Requests

    @Test("CertID re-encodes byte for byte with and without NULL hash parameters, and for any serial")
    func certIDForms() throws {
        for vector in [
            OCSPVector.certID(nullParameters: true), OCSPVector.certID(nullParameters: false),
            OCSPVector.certID(serial: [0x00, 0x80]), OCSPVector.certID(serial: [0xFF]),
            OCSPVector.certID(serial: [0x7F] + [UInt8](repeating: 0xEE, count: 19)),
        ] {
            let certID = try assertReencodes(CertID.self, vector)
            #expect(certID.hashAlgorithm.algorithm == .HashAlgorithm.sha1)
            #expect(certID.issuerNameHash.count == 20)
            try assertRoundTrips(certID)
        }
        let withNull = try CertID(derEncoded: OCSPVector.certID(nullParameters: true))
        let withoutNull = try CertID(derEncoded: OCSPVector.certID(nullParameters: false))
        #expect(withNull.hashAlgorithm.parameters == AlgorithmIdentifier.nullParameters)
        #expect(withoutNull.hashAlgorithm.parameters == nil)
        #expect(withNull != withoutNull)
        #expect(withNull.hashAlgorithm.algorithm == withoutNull.hashAlgorithm.algorithm)
        // A non-minimal serial is not DER.
        #expect(throws: ASN1Error.self) { try CertID(derEncoded: OCSPVector.certID(serial: [0x00, 0x01])) }
    }

    @Test("TBSRequest: v1 never written, an explicit v1 refused, other versions kept; requestorName is [1] EXPLICIT")
    func tbsRequestFields() throws {
        let single = tlv(0x30, OCSPVector.certID())
        let plain = try assertReencodes(TBSRequest.self, tlv(0x30, tlv(0x30, single)))
        #expect(plain.version == TBSRequest.v1)
        #expect(plain.requestList.count == 1)
        #expect(try plain.nonce == nil)
        #expect(throws: ASN1Error.self) {
            try TBSRequest(derEncoded: tlv(0x30, bytes(fromHex: "A0 03 02 01 00"), tlv(0x30, single)))
        }
        let later = try assertReencodes(
            TBSRequest.self, tlv(0x30, bytes(fromHex: "A0 03 02 01 05"), tlv(0x30, single)))
        #expect(later.version == 5)

        let named = TBSRequest(
            requestorName: .rfc822Name("ocsp@example.com"),
            requestList: [OCSPSingleRequest(reqCert: try CertID(derEncoded: OCSPVector.certID()))],
            requestExtensions: [OCSPNonce(octets: OCSPVector.nonce).makeCertificateExtension()]
        )
        let encoded = try assertRoundTrips(named)
        let expected = tlv(
            0x30, tlv(0xA1, tlv(0x81, Array("ocsp@example.com".utf8))), tlv(0x30, single),
            tlv(0xA2, tlv(0x30, OCSPVector.nonceExtension(OCSPVector.nonce))))
        expectSameBytes(encoded, expected, "TBSRequest with requestorName and nonce")
        #expect(try TBSRequest(derEncoded: encoded).nonce?.octets == OCSPVector.nonce[...])
        // An empty requestList parses (the responder answers it); singleRequestExtensions are [0] EXPLICIT.
        #expect(try TBSRequest(derEncoded: tlv(0x30, tlv(0x30))).requestList.isEmpty)
        let singleWithExtension = tlv(
            0x30, OCSPVector.certID(), tlv(0xA0, tlv(0x30, OCSPVector.nonceExtension([0x01]))))
        let parsedSingle = try assertReencodes(OCSPSingleRequest.self, singleWithExtension)
        #expect(parsedSingle.singleRequestExtensions?.first?.oid == .OCSP.nonce)
    }

    @Test("OCSPRequest keeps the TBSRequest bytes and carries an optional [0] EXPLICIT Signature")
    func signedRequest() throws {
        let tbs = TBSRequest(requestList: [OCSPSingleRequest(reqCert: try CertID(derEncoded: OCSPVector.certID()))])
        let signature = OCSPSignature(
            signatureAlgorithm: AlgorithmIdentifier(algorithm: .SignatureAlgorithm.ecdsaWithSHA256),
            signature: ASN1BitString(bytes: [0xAA, 0xBB]),
            certs: [RawDER(trustedEncoding: tlv(0x30, [0x05, 0x00])[...])]
        )
        let request = try OCSPRequest(tbsRequest: tbs, optionalSignature: signature)
        expectSameBytes(request.tbsRequestBytes.bytes, try derBytes(tbs), "tbsRequestBytes")
        let encoded = try assertRoundTrips(request)
        let expected = tlv(
            0x30, try derBytes(tbs),
            tlv(
                0xA0,
                tlv(
                    0x30, tlv(0x30, bytes(fromHex: "06 08 2A 86 48 CE 3D 04 03 02")), bytes(fromHex: "03 03 00 AA BB"),
                    tlv(0xA0, tlv(0x30, [0x30, 0x02, 0x05, 0x00])))))
        expectSameBytes(encoded, expected, "signed OCSPRequest")
        #expect(try OCSPRequest(derEncoded: encoded).optionalSignature == signature)
    }

    // MARK: Extensions

    @Test("nonce: extnValue is the DER of an OCTET STRING; lengths 1…128 are accepted")
    func nonceExtension() throws {
        let nonce = OCSPNonce(octets: OCSPVector.nonce)
        let ext = nonce.makeCertificateExtension()
        #expect(ext.oid == .OCSP.nonce)
        #expect(!ext.critical)
        #expect(Array(ext.value) == tlv(0x04, OCSPVector.nonce))
        #expect(hex(try derBytes(ext)) == "30 1F " + hex(OCSPVector.nonceOID) + " 04 12 04 10 " + hex(OCSPVector.nonce))
        #expect(try OCSPNonce(ext) == nonce)
        #expect(try OCSPNonce.find(in: [ext]) == nonce)
        #expect(try OCSPNonce.find(in: nil) == nil)
        #expect(try OCSPNonce.find(in: [OCSPExtendedRevoke().makeCertificateExtension()]) == nil)
        // Raw nonce octets without the OCTET STRING (a pre-RFC 8954 mistake) and a doubled nonce are refused.
        let raw = Certificate.Extension(oid: .OCSP.nonce, critical: false, value: OCSPVector.nonce[...])
        #expect(throws: ASN1Error.self) { try OCSPNonce.find(in: [raw]) }
        #expect(throws: ASN1Error.self) { try OCSPNonce.find(in: [ext, ext]) }
        #expect(throws: ASN1Error.self) { try OCSPNonce(OCSPExtendedRevoke().makeCertificateExtension()) }

        #expect(OCSPNonce(octets: [UInt8](repeating: 1, count: 16)).hasAcceptedLength)
        #expect(OCSPNonce(octets: [UInt8](repeating: 1, count: 32)).hasAcceptedLength)
        #expect(OCSPNonce(octets: [UInt8](repeating: 1, count: 128)).hasAcceptedLength)
        #expect(!OCSPNonce(octets: [UInt8](repeating: 1, count: 129)).hasAcceptedLength)
        #expect(!OCSPNonce(octets: []).hasAcceptedLength)
        // A 200-octet nonce needs a long-form length, inside and outside.
        let long = OCSPNonce(octets: [UInt8](repeating: 7, count: 200)).makeCertificateExtension()
        #expect(Array(long.value.prefix(3)) == [0x04, 0x81, 0xC8])
        #expect(try OCSPNonce(long).octets.count == 200)
    }

    @Test("extended revoke: non-critical, value NULL")
    func extendedRevoke() throws {
        let ext = OCSPExtendedRevoke().makeCertificateExtension()
        #expect(hex(try derBytes(ext)) == "30 0F 06 09 2B 06 01 05 05 07 30 01 09 04 02 05 00")
        #expect(OCSPExtendedRevoke.isPresent(in: [ext]))
        #expect(!OCSPExtendedRevoke.isPresent(in: nil))
        #expect(ASN1ObjectIdentifier.OCSP.noCheck == [1, 3, 6, 1, 5, 5, 7, 48, 1, 5])
        #expect(ASN1ObjectIdentifier.ExtendedKeyUsage.ocspSigning == [1, 3, 6, 1, 5, 5, 7, 3, 9])
    }
}

@Suite("Whole-second GeneralizedTime for OCSP")
struct OCSPTimeTests {
    static let instants: [(Int64, String)] = [
        (0, "19700101000000Z"), (-1, "19691231235959Z"), (951_782_400, "20000229000000Z"),
        (1_795_602_030, "20261125102030Z"), (2_524_607_999, "20491231235959Z"), (4_107_542_400, "21000301000000Z"),
        (253_402_300_799, "99991231235959Z"), (-62_167_219_200, "00000101000000Z"),
    ]

    @Test("fixed instants", arguments: Self.instants)
    func fixedInstants(seconds: Int64, text: String) throws {
        let time = try GeneralizedTimeText(wholeSecondsSince1970: seconds)
        #expect(time.text == text)
        #expect(time.isWholeSeconds)
        #expect(time.wholeSecondsSince1970 == seconds)
        #expect(hex(try derBytes(time)) == "18 0F " + hex(Array(text.utf8)))
    }

    @Test("out of range years are refused; a fraction is dropped when converting")
    func edges() throws {
        #expect(throws: ASN1Error.self) { try GeneralizedTimeText(wholeSecondsSince1970: 253_402_300_800) }
        #expect(throws: ASN1Error.self) { try GeneralizedTimeText(wholeSecondsSince1970: -62_167_219_201) }
        let fractional = try GeneralizedTimeText("20261125102030.999Z")
        #expect(!fractional.isWholeSeconds)
        #expect(fractional.wholeSecondsSince1970 == 1_795_602_030)
    }

    @Test("agrees with Foundation's calendar over two thousand instants from 1900 to 2200")
    func agreesWithFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)
            let time = try GeneralizedTimeText(wholeSecondsSince1970: seconds)
            #expect(time.text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
            #expect(time.wholeSecondsSince1970 == seconds)
        }
    }
}
