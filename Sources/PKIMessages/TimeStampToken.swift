import SwiftASN1
public import X509

/// A parsed time-stamp token: ContentInfo → SignedData → TSTInfo (RFC 3161 §2.4.2).
///
/// Parsing checks the structure RFC 3161 prescribes (content type id-signedData, eContentType id-ct-TSTInfo, one
/// SignerInfo); it verifies no signature. Verification is the `Validation` module's and `openssl ts -verify`'s job.
public struct TimeStampToken: Hashable, Sendable {
    public var contentInfo: ContentInfo
    public var signedData: SignedData
    public var tstInfo: TSTInfo
    /// The TSTInfo DER exactly as signed (the eContent octets).
    public var tstInfoBytes: ArraySlice<UInt8>

    public init(derEncoded bytes: ArraySlice<UInt8>) throws {
        let contentInfo = try ContentInfo(derEncoded: bytes)
        guard contentInfo.contentType == .CMSContentType.signedData else {
            throw ASN1Error.invalidASN1Object(
                reason: "token content type \(contentInfo.contentType) is not id-signedData")
        }
        let signedData = try SignedData(derEncoded: contentInfo.content.bytes)
        guard signedData.encapContentInfo.eContentType == .CMSContentType.tstInfo else {
            throw ASN1Error.invalidASN1Object(
                reason: "eContentType \(signedData.encapContentInfo.eContentType) is not id-ct-TSTInfo"
            )
        }
        guard let content = signedData.encapContentInfo.eContent else {
            throw ASN1Error.invalidASN1Object(reason: "token without eContent")
        }
        guard signedData.signerInfos.count == 1 else {
            throw ASN1Error.invalidASN1Object(reason: "token has \(signedData.signerInfos.count) SignerInfos, not 1")
        }
        self.contentInfo = contentInfo
        self.signedData = signedData
        self.tstInfoBytes = content
        self.tstInfo = try TSTInfo(derEncoded: content)
    }

    public init(derEncoded bytes: [UInt8]) throws {
        try self.init(derEncoded: bytes[...])
    }

    /// The single SignerInfo.
    public var signerInfo: SignerInfo? { self.signedData.signerInfos.first }

    /// The certificates the token carries, parsed.
    public func certificates() throws -> [Certificate] {
        try (self.signedData.certificates ?? []).map { try Certificate(derEncoded: Array($0.bytes)) }
    }

    /// The SigningCertificateV2 attribute, when present.
    public func signingCertificateV2() throws -> SigningCertificateV2? {
        guard let attribute = self.signerInfo?.signedAttribute(.CMSAttributeType.signingCertificateV2),
            let value = attribute.attrValues.first
        else { return nil }
        return try SigningCertificateV2(asn1Any: value)
    }
}
