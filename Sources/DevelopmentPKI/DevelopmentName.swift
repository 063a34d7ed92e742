import X509

/// A subject of the development PKI: `CN=<commonName>, O=Sigillum Development, C=DE`.
///
/// Country and organisation are in every subject, as ETSI EN 319 412-3 §4.2.1 asks of legal
/// persons and EN 319 422 §6 of TSU certificates.
struct DevelopmentName {
    static let organization = "Sigillum Development"
    static let country = "DE"

    var commonName: String

    static let rootCA = DevelopmentName(commonName: "Sigillum Development Root CA")
    static let issuingCA = DevelopmentName(commonName: "Sigillum Development Issuing CA")
    static let tsu = DevelopmentName(commonName: "Sigillum Development TSU 1")
    static let ocspResponder = DevelopmentName(commonName: "Sigillum Development OCSP Responder")
    static let endEntityGood = DevelopmentName(commonName: "Sigillum Development End Entity (good)")
    static let endEntityRevoked = DevelopmentName(commonName: "Sigillum Development End Entity (revoked)")

    /// The name in DER order: C, O, CN.
    func distinguishedName() throws -> DistinguishedName {
        try DistinguishedName {
            CountryName(Self.country)
            OrganizationName(Self.organization)
            CommonName(self.commonName)
        }
    }

    /// OpenSSL's one-line form, as `index.txt` holds it: `/C=DE/O=Sigillum Development/CN=…`.
    var openSSLOneLine: String {
        "/C=\(Self.country)/O=\(Self.organization)/CN=\(self.commonName)"
    }
}
