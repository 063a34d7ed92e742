import Foundation
import X509

/// One line of an OpenSSL `ca` database (`index.txt`), as `openssl ca` and `openssl ocsp -index`
/// read it.
///
/// Six tab-separated fields: status (`V` valid, `R` revoked); expiry as an ASN.1 time string
/// (`YYMMDDHHMMSSZ`, or `YYYYMMDDHHMMSSZ` from 2050 on); revocation time and optional reason
/// (`YYMMDDHHMMSSZ,keyCompromise`), empty when valid; the serial in upper-case hex; the file name,
/// `unknown`; the subject in OpenSSL's one-line form (`/C=DE/O=…/CN=…`).
struct OpenSSLIndexEntry {
    enum Status {
        case valid
        /// `reason` is an OpenSSL CRL reason name, such as `keyCompromise`.
        case revoked(at: Date, reason: String)
    }

    var status: Status
    var certificate: Certificate
    var subject: DevelopmentName

    var line: String {
        let statusField: String
        let revocationField: String
        switch self.status {
        case .valid:
            statusField = "V"
            revocationField = ""
        case .revoked(let date, let reason):
            statusField = "R"
            revocationField = "\(Self.asn1TimeString(date)),\(reason)"
        }
        return [
            statusField,
            Self.asn1TimeString(self.certificate.notValidAfter),
            revocationField,
            Self.serialHex(self.certificate.serialNumber),
            "unknown",
            self.subject.openSSLOneLine,
        ].joined(separator: "\t")
    }

    /// The serial as OpenSSL's `BN_bn2hex` writes it: upper-case hex, whole octets, no leading
    /// zero octets (`00` for zero).
    static func serialHex(_ serial: Certificate.SerialNumber) -> String {
        let octets = serial.bytes.drop { $0 == 0 }
        guard !octets.isEmpty else { return "00" }
        return octets.map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }

    /// The time as the certificate encodes it (RFC 5280 §4.1.2.5): UTCTime before 2050,
    /// GeneralizedTime from then on.
    static func asn1TimeString(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = parts.year ?? 1970
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        let yearField = (1950..<2050).contains(year) ? two(year % 100) : String(year)
        return yearField + two(parts.month) + two(parts.day) + two(parts.hour) + two(parts.minute)
            + two(parts.second) + "Z"
    }
}
