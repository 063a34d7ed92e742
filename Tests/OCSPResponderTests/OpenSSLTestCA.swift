import Foundation
import SwiftASN1
import X509

/// A throw-away CA run by OpenSSL's own `openssl ca`, in a temporary directory: an EC P-256 key, a self-signed CA
/// certificate with keyUsage keyCertSign and cRLSign, an `openssl.cnf` with a `[ca]` section, `index.txt`, and a
/// serial file starting at 8A0B0C0D (so every serial's INTEGER needs a leading 00, and the lookup must strip it). By
/// hand:
///
/// ```
/// openssl ecparam -name prime256v1 -genkey -noout -out ca.key
/// openssl req -new -x509 -key ca.key -subj "/CN=…" -days 2 -config ca.cnf -extensions ca_ext -out ca.pem
/// openssl ecparam -name prime256v1 -genkey -noout -out ee.key
/// openssl req -new -key ee.key -subj /CN=ee -config ca.cnf -out ee.csr
/// openssl ca -batch -config ca.cnf -in ee.csr -out ee.pem -notext
/// openssl ca -config ca.cnf -revoke ee.pem -crl_reason keyCompromise
/// openssl ca -config ca.cnf -gencrl -out crl.pem
/// ```
struct OpenSSLTestCA {
    let directory: URL
    let subject: String

    init(in directory: URL, subject: String = "/CN=Sigillum OCSP Test CA/O=Sigillum") throws {
        self.directory = directory
        self.subject = subject
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("newcerts"),
            withIntermediateDirectories: true
        )
        try Data(self.configuration.utf8).write(to: directory.appendingPathComponent("ca.cnf"))
        try Data().write(to: directory.appendingPathComponent("index.txt"))
        try Data("8A0B0C0D\n".utf8).write(to: directory.appendingPathComponent("serial"))
        try Data("1000\n".utf8).write(to: directory.appendingPathComponent("crlnumber"))
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], in: directory)
        try openssl(
            [
                "req", "-new", "-x509", "-key", "ca.key", "-subj", subject, "-days", "2",
                "-config", "ca.cnf", "-extensions", "ca_ext", "-out", "ca.pem",
            ],
            in: directory
        )
    }

    var indexPath: String { self.path("index.txt") }

    func path(_ name: String) -> String {
        self.directory.appendingPathComponent(name).path
    }

    /// The CA certificate.
    func certificate() throws -> Certificate {
        try Certificate(pemEncoded: String(decoding: try readBytes(self.path("ca.pem")), as: UTF8.self))
    }

    /// Issues an end-entity certificate `NAME.pem` with `openssl ca` and returns it.
    @discardableResult
    func issue(_ name: String) throws -> Certificate {
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key"], in: self.directory)
        try openssl(
            ["req", "-new", "-key", "\(name).key", "-subj", "/CN=\(name)", "-config", "ca.cnf", "-out", "\(name).csr"],
            in: self.directory
        )
        try openssl(
            ["ca", "-batch", "-config", "ca.cnf", "-in", "\(name).csr", "-out", "\(name).pem", "-notext"],
            in: self.directory
        )
        return try Certificate(pemEncoded: String(decoding: try readBytes(self.path("\(name).pem")), as: UTF8.self))
    }

    /// `openssl ca -revoke NAME.pem` with extra options such as `-crl_reason keyCompromise`.
    func revoke(_ name: String, _ options: [String]) throws {
        try openssl(["ca", "-config", "ca.cnf", "-revoke", "\(name).pem"] + options, in: self.directory)
    }

    /// `openssl ca -status SERIAL`: "Valid", "Revoked", "Expired"… as OpenSSL reads its database.
    func openSSLStatus(serialHex: String) throws -> String {
        let result = try run(["openssl", "ca", "-config", "ca.cnf", "-status", serialHex], in: self.directory)
        // OpenSSL prints "SERIAL=Valid (V)" on stderr, and exits 1 when the serial is not present.
        let text = result.stdout + result.stderr
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(serialHex + "=") }) else {
            throw TestFailure("openssl ca -status \(serialHex) said: \(text)")
        }
        return String(line.dropFirst(serialHex.count + 1).split(separator: " ").first ?? "")
    }

    /// Asks OpenSSL's own responder (`openssl ocsp -index`) about `NAME.pem`, without a network: a request file,
    /// a response file, and `-resp_text`. Returns the status, the reason and the revocation time as printed.
    func openSSLOCSPAnswer(for name: String) throws -> (status: String, reason: String?, revocationTime: Date?) {
        try openssl(
            ["ocsp", "-issuer", "ca.pem", "-cert", "\(name).pem", "-no_nonce", "-reqout", "\(name).ocspreq"],
            in: self.directory
        )
        try openssl(
            [
                "ocsp", "-index", "index.txt", "-CA", "ca.pem", "-rsigner", "ca.pem", "-rkey", "ca.key",
                "-reqin", "\(name).ocspreq", "-respout", "\(name).ocspresp",
            ],
            in: self.directory
        )
        let text = try openssl(["ocsp", "-respin", "\(name).ocspresp", "-resp_text", "-noverify"], in: self.directory)
            .stdout
        func value(after label: String) -> String? {
            guard let line = text.split(separator: "\n").first(where: { $0.contains(label) }),
                let range = line.range(of: label)
            else { return nil }
            return line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        guard let status = value(after: "Cert Status:") else {
            throw TestFailure("no Cert Status in: \(text)")
        }
        let reason = value(after: "Revocation Reason:").map { String($0.split(separator: " ").first ?? "") }
        let time = value(after: "Revocation Time:").flatMap(Self.parseOpenSSLTime)
        return (status, reason, time)
    }

    /// `openssl ca -gencrl`, PEM; also writes the DER as `NAME.der`.
    func generateCRL(_ name: String = "crl") throws {
        try openssl(["ca", "-config", "ca.cnf", "-gencrl", "-out", "\(name).pem"], in: self.directory)
        try openssl(["crl", "-in", "\(name).pem", "-outform", "DER", "-out", "\(name).der"], in: self.directory)
    }

    /// ASN1_TIME_print's form: `Nov 25 10:11:12 2026 GMT` (the day padded with a space).
    static func parseOpenSSLTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return formatter.date(from: collapsed)
    }

    private var configuration: String {
        """
        [ ca ]
        default_ca = test_ca

        [ test_ca ]
        dir = \(self.directory.path)
        database = $dir/index.txt
        new_certs_dir = $dir/newcerts
        certificate = $dir/ca.pem
        private_key = $dir/ca.key
        serial = $dir/serial
        crlnumber = $dir/crlnumber
        default_md = sha256
        default_days = 30
        default_crl_days = 7
        policy = policy_any
        unique_subject = no
        copy_extensions = none
        x509_extensions = ee_ext

        [ policy_any ]
        commonName = supplied

        [ req ]
        distinguished_name = req_dn
        prompt = no

        [ req_dn ]
        CN = unused

        [ ca_ext ]
        basicConstraints = critical, CA:true
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        [ ee_ext ]
        basicConstraints = CA:false
        keyUsage = critical, digitalSignature

        """
    }
}
