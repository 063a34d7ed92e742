import Crypto
public import Foundation
import PKIMessages
public import Signing
import SwiftASN1
public import X509

/// One issuing CA the responder answers for, with everything a response needs precomputed.
///
/// CertIDs are matched by issuerNameHash and issuerKeyHash computed at start-up with SHA-1, SHA-256, SHA-384 and
/// SHA-512 (RFC 6960 §4.1.1: the hash of the issuer's DN and of its subjectPublicKey BIT STRING value).
public final class OCSPIssuer: Sendable {
    /// How the responder names itself (RFC 6960 §4.2.1).
    public enum ResponderIDForm: Sendable, Hashable {
        case byKey
        case byName
    }

    public let certificate: Certificate
    public let signer: any Signer
    /// The signer when it signs in-process, so that an event loop may call it without a task.
    let softwareSigner: SoftwareSigner?
    public let status: any StatusLookup
    public let nonIssuedIsRevoked: Bool
    /// A short name for logs and metrics (the issuer's common name or subject).
    public let label: String
    /// The key under which this issuer's pre-signed answers are stored: the issuer, the responder certificate (SHA-256
    /// of its DER) and the ResponderID form, so that answers signed by a rotated or renamed responder are never reused
    /// after a restart. The responder adds the validity it signs with.
    let storeKey: String

    let nameHashes: [ASN1ObjectIdentifier: [UInt8]]
    let keyHashes: [ASN1ObjectIdentifier: [UInt8]]
    /// The encoded ResponderID.
    let responderIDDER: [UInt8]
    /// `[0] EXPLICIT SEQUENCE OF Certificate` with the delegated responder's certificate, or empty when the CA signs.
    let certsDER: [UInt8]
    let signatureAlgorithmDER: [UInt8]
    /// True when a delegated responder signs (its certificate travels in the response).
    public let isDelegated: Bool

    static let hashAlgorithms: [ASN1ObjectIdentifier] = [
        .HashAlgorithm.sha1, .HashAlgorithm.sha256, .HashAlgorithm.sha384, .HashAlgorithm.sha512,
    ]

    /// Checks the signer's authority (RFC 6960 §4.2.2.2) and encodes the constant parts of responses.
    public init(
        certificate: Certificate,
        signer: any Signer,
        responderID: ResponderIDForm,
        status: any StatusLookup,
        nonIssuedIsRevoked: Bool,
        now: Date = Date()
    ) throws {
        let delegated = signer.certificate != certificate
        if delegated {
            try Self.validateDelegate(signer.certificate, issuer: certificate, now: now)
        }
        self.certificate = certificate
        self.signer = signer
        self.softwareSigner = signer as? SoftwareSigner
        self.status = status
        self.nonIssuedIsRevoked = nonIssuedIsRevoked
        self.isDelegated = delegated
        self.label = certificate.subject.description
        var responderDER = DER.Serializer()
        try responderDER.serialize(signer.certificate)
        let responderHash = SHA256.hash(data: responderDER.serializedBytes).map { byte in
            (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
        self.storeKey =
            "\(certificate.subject.description)|\(responderHash)|\(responderID == .byKey ? "byKey" : "byName")"

        let nameInput = CertID.issuerNameHashInput(of: certificate)
        let keyInput = CertID.issuerKeyHashInput(of: certificate)
        var names: [ASN1ObjectIdentifier: [UInt8]] = [:]
        var keys: [ASN1ObjectIdentifier: [UInt8]] = [:]
        for oid in Self.hashAlgorithms {
            names[oid] = Self.hash(oid, nameInput)
            keys[oid] = Self.hash(oid, keyInput)
        }
        self.nameHashes = names
        self.keyHashes = keys

        let responder = signer.certificate
        let id: ResponderID =
            switch responderID {
            case .byKey: .byKey(ArraySlice(Self.hash(.HashAlgorithm.sha1, ResponderID.keyHashInput(of: responder))))
            case .byName: .byName(responder.subject)
            }
        self.responderIDDER = try RawDER(encoding: id).bytes.map { $0 }
        if delegated {
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(responder)
                }
            }
            self.certsDER = coder.serializedBytes
        } else {
            self.certsDER = []
        }
        self.signatureAlgorithmDER = Array(try RawDER(encoding: signer.scheme.signatureAlgorithmIdentifier()).bytes)
    }

    /// RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA, carries
    /// id-kp-OCSPSigning, and (so that clients need not check its own status) id-pkix-ocsp-nocheck (§4.2.2.2.1).
    static func validateDelegate(_ responder: Certificate, issuer: Certificate, now: Date) throws {
        let subject = responder.subject.description
        guard responder.issuer == issuer.subject, issuer.publicKey.isValidSignature(responder.signature, for: responder)
        else {
            throw OCSPResponderError.unauthorizedResponder(
                reason: "the responder certificate \"\(subject)\" was not issued directly by \"\(issuer.subject)\""
            )
        }
        let usages = (try? responder.extensions.extendedKeyUsage).map { Array($0) } ?? []
        guard usages.contains(.ocspSigning) else {
            throw OCSPResponderError.unauthorizedResponder(
                reason: "the responder certificate \"\(subject)\" lacks the extended key usage id-kp-OCSPSigning"
            )
        }
        guard responder.extensions[oid: .OCSP.noCheck] != nil else {
            throw OCSPResponderError.unauthorizedResponder(
                reason: "the responder certificate \"\(subject)\" lacks the id-pkix-ocsp-nocheck extension"
            )
        }
        guard now >= responder.notValidBefore, now <= responder.notValidAfter else {
            throw OCSPResponderError.unauthorizedResponder(
                reason: "the responder certificate \"\(subject)\" is not valid now (\(responder.notValidBefore) – "
                    + "\(responder.notValidAfter))"
            )
        }
    }

    /// Whether `certID` names this issuer: a known hash algorithm (parameters absent or NULL) and matching hashes.
    func matches(_ certID: CertID) -> Bool {
        guard certID.hashAlgorithm.hasAbsentOrNullParameters,
            let name = self.nameHashes[certID.hashAlgorithm.algorithm],
            let key = self.keyHashes[certID.hashAlgorithm.algorithm]
        else { return false }
        return certID.issuerNameHash.elementsEqual(name) && certID.issuerKeyHash.elementsEqual(key)
    }

    /// The CertID OpenSSL and most clients send: SHA-1 with NULL parameters.
    func defaultCertID(serial: SerialNumberKey) -> CertID {
        CertID(
            hashAlgorithm: AlgorithmIdentifier(
                algorithm: .HashAlgorithm.sha1, parameters: AlgorithmIdentifier.nullParameters),
            issuerNameHash: ArraySlice(self.nameHashes[.HashAlgorithm.sha1] ?? []),
            issuerKeyHash: ArraySlice(self.keyHashes[.HashAlgorithm.sha1] ?? []),
            serialNumber: DERInteger(unsignedMagnitude: serial.bytes)
        )
    }

    static func hash(_ algorithm: ASN1ObjectIdentifier, _ input: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .HashAlgorithm.sha256: SHA256.hash(data: input).withUnsafeBytes { Array($0) }
        case .HashAlgorithm.sha384: SHA384.hash(data: input).withUnsafeBytes { Array($0) }
        case .HashAlgorithm.sha512: SHA512.hash(data: input).withUnsafeBytes { Array($0) }
        default: Insecure.SHA1.hash(data: input).withUnsafeBytes { Array($0) }
        }
    }
}
