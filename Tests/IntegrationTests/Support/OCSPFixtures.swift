import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// The test CAs of the OCSP tests, made with `openssl ca` (EC P-256 keys, so that making them costs a fraction of a
// second), once per test run and shared read-only. A test that changes a CA's database works on a copy
// (`OCSPTestCA.copy(to:)`): the configuration uses `dir = .`, so `openssl ca` runs in whichever folder holds it.

/// One end-entity (or responder) certificate of a test CA.
struct OCSPTestCertificate: Sendable {
    var certificate: String
    var key: String
    /// The serial as `openssl x509 -serial` prints it (upper-case hex, e.g. `1000`).
    var serialHex: String
}

/// A CA made by `openssl ca` in `directory`: `ca.pem`, `ca.key`, `ca.cnf`, `index.txt`, `serial`, `crlnumber`,
/// `certs/`, `crl.pem`, and one `NAME.pem`/`NAME.key` per issued certificate.
struct OCSPTestCA: Sendable {
    var directory: String
    var subject: String
    /// Issued with `ee_ext`; `revoked` is revoked with reason keyCompromise.
    var good: OCSPTestCertificate
    var revoked: OCSPTestCertificate
    var unlisted: OCSPTestCertificate

    var certificate: String { self.directory + "/ca.pem" }
    var key: String { self.directory + "/ca.key" }
    var index: String { self.directory + "/index.txt" }
    var crl: String { self.directory + "/crl.pem" }

    /// The same CA in another folder (the copy's `index.txt` and CRL can then change without touching the shared one).
    func copy(to destination: String) throws -> OCSPTestCA {
        try FileManager.default.copyItem(atPath: self.directory, toPath: destination)
        var copy = self
        copy.directory = destination
        for keyPath in [\OCSPTestCA.good, \.revoked, \.unlisted] {
            copy[keyPath: keyPath].certificate = copy[keyPath: keyPath].certificate.replacingOccurrences(
                of: self.directory, with: destination)
            copy[keyPath: keyPath].key = copy[keyPath: keyPath].key.replacingOccurrences(
                of: self.directory, with: destination)
        }
        return copy
    }

    /// `index.txt` without the lines of `serials` (upper-case hex as OpenSSL writes them).
    func indexText(excluding serials: [String]) -> String {
        readText(self.index).split(separator: "\n").filter { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return !(fields.count == 6 && serials.contains(String(fields[3])))
        }.map { $0 + "\n" }.joined()
    }

    /// `openssl ca -revoke CERT -crl_reason REASON`, against this folder's database (rewritten by rename).
    func revoke(_ certificate: String, reason: String) async throws {
        try checked(
            try await Tool.openssl(
                ["ca", "-config", "ca.cnf", "-revoke", certificate, "-crl_reason", reason], directory: self.directory))
    }

    /// `openssl ca -gencrl` into a temporary file, then renamed over `crl.pem` in one step.
    func publishCRL() async throws {
        try checked(
            try await Tool.openssl(
                ["ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem.new"], directory: self.directory)
        )
        guard rename(self.directory + "/crl.pem.new", self.crl) == 0 else {
            throw IntegrationError("rename crl.pem.new → crl.pem failed: errno \(errno)")
        }
    }
}

/// Everything the OCSP tests issue: CA "A" (served in most tests) with its responders, CA "B" (a second issuer, whose
/// good certificate has the same serial as A's), and an impostor CA with A's name but another key.
struct OCSPPKI: Sendable {
    var a: OCSPTestCA
    var b: OCSPTestCA
    /// A delegated responder of A (EKU OCSPSigning, id-pkix-ocsp-nocheck). Its subjectKeyIdentifier is deliberately
    /// NOT the SHA-1 of its key, so that a ResponderID byKey taken from the SKI is told apart from the right one.
    var responder: OCSPTestCertificate
    /// The responder's key in certificates A issued without id-kp-OCSPSigning (serverAuth instead) and without
    /// id-pkix-ocsp-nocheck.
    var responderWithoutOCSPSigning: String
    var responderWithoutNoCheck: String
    /// The responder's key in a certificate with every right extension, issued by a CA that has A's name but not
    /// A's key.
    var responderFromImpostor: String
    /// The bogus SKI of `responder`, lower-case hex.
    static let responderSKI = "5e11111155000000000000000000000000000001"
}

/// The OCSP test PKI, made on first use (at most once, even when tests ask concurrently).
actor OCSPFixtures {
    static let shared = OCSPFixtures()

    private var task: Task<OCSPPKI, any Error>?

    func pki() async throws -> OCSPPKI {
        if let task { return try await task.value }
        let task = Task { try await Self.make(in: SharedFixtures.root + "/ocsp-pki") }
        self.task = task
        return try await task.value
    }

    static func make(in root: String) async throws -> OCSPPKI {
        let started = ContinuousClock.now
        let a = root + "/ca-a"
        let b = root + "/ca-b"
        let impostor = root + "/impostor"
        let nameA = "/O=Sigillum Tests/CN=OCSP Test CA A"
        try await Self.makeCA(in: a, subject: nameA)
        try await Self.makeCA(in: b, subject: "/O=Sigillum Tests/CN=OCSP Test CA B")
        try await Self.makeCA(in: impostor, subject: nameA)

        let good = try await Self.issue("good", in: a, extensions: "ee_ext")
        let revoked = try await Self.issue("revoked", in: a, extensions: "ee_ext")
        let unlisted = try await Self.issue("unlisted", in: a, extensions: "ee_ext")
        let responder = try await Self.issue("responder", in: a, extensions: "ocsp_ext")
        let noEKU = try await Self.issue(
            "responder-no-eku", in: a, extensions: "ocsp_no_eku_ext", key: responder.key)
        let noCheck = try await Self.issue(
            "responder-no-nocheck", in: a, extensions: "ocsp_no_nocheck_ext", key: responder.key)
        let caA = OCSPTestCA(directory: a, subject: nameA, good: good, revoked: revoked, unlisted: unlisted)
        try await caA.revoke(revoked.certificate, reason: "keyCompromise")
        try await caA.publishCRL()

        let goodB = try await Self.issue("good", in: b, extensions: "ee_ext")
        let revokedB = try await Self.issue("revoked", in: b, extensions: "ee_ext")
        let unlistedB = try await Self.issue("unlisted", in: b, extensions: "ee_ext")
        let caB = OCSPTestCA(
            directory: b, subject: "/O=Sigillum Tests/CN=OCSP Test CA B", good: goodB, revoked: revokedB,
            unlisted: unlistedB)
        try await caB.revoke(revokedB.certificate, reason: "superseded")

        // The impostor issues the same request (the responder's key) with the right profile.
        let fromImpostor = impostor + "/responder.pem"
        try checked(
            try await Tool.openssl(
                [
                    "ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", "ocsp_ext", "-in",
                    a + "/responder.csr", "-out", fromImpostor,
                ], directory: impostor))

        guard goodB.serialHex == good.serialHex else {
            throw IntegrationError("CA B's first serial \(goodB.serialHex) is not CA A's \(good.serialHex)")
        }
        let ski = try checked(
            try await Tool.openssl(["x509", "-in", responder.certificate, "-noout", "-ext", "subjectKeyIdentifier"])
        ).output
        guard ski.lowercased().replacingOccurrences(of: ":", with: "").contains(OCSPPKI.responderSKI) else {
            throw IntegrationError("the responder certificate lacks the planted SKI:\n\(ski)")
        }
        let elapsed = ContinuousClock.now - started
        if elapsed > .seconds(10) { print("making the OCSP test PKI took \(elapsed)") }
        return OCSPPKI(
            a: caA,
            b: caB,
            responder: responder,
            responderWithoutOCSPSigning: noEKU.certificate,
            responderWithoutNoCheck: noCheck.certificate,
            responderFromImpostor: fromImpostor
        )
    }

    /// A self-signed EC P-256 CA with an empty `openssl ca` database.
    static func makeCA(in directory: String, subject: String) async throws {
        try FileManager.default.createDirectory(atPath: directory + "/certs", withIntermediateDirectories: true)
        try writeFile(directory + "/index.txt", text: "")
        try writeFile(directory + "/index.txt.attr", text: "unique_subject = no\n")
        try writeFile(directory + "/serial", text: "1000\n")
        try writeFile(directory + "/crlnumber", text: "1000\n")
        try writeFile(directory + "/ca.cnf", text: Self.configuration)
        try checked(
            try await Tool.openssl(
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"],
                directory: directory))
        try checked(
            try await Tool.openssl(
                [
                    "req", "-config", "ca.cnf", "-new", "-x509", "-key", "ca.key", "-subj", subject, "-days", "30",
                    "-extensions", "ca_ext", "-out", "ca.pem",
                ], directory: directory))
    }

    /// A new EC P-256 key (or `key`), a request for `/O=Sigillum Tests/CN=ee-NAME`, and `openssl ca -extensions`.
    static func issue(_ name: String, in directory: String, extensions: String, key: String? = nil) async throws
        -> OCSPTestCertificate
    {
        let keyPath = key ?? "\(directory)/\(name).key"
        if key == nil {
            try checked(
                try await Tool.openssl([
                    "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath,
                ]))
        }
        let request = "\(directory)/\(name).csr"
        let certificate = "\(directory)/\(name).pem"
        try checked(
            try await Tool.openssl(
                [
                    "req", "-config", "ca.cnf", "-new", "-key", keyPath, "-subj", "/O=Sigillum Tests/CN=ee-\(name)",
                    "-out", request,
                ], directory: directory))
        try checked(
            try await Tool.openssl(
                [
                    "ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", extensions, "-in", request, "-out",
                    certificate,
                ], directory: directory))
        let serial = try checked(try await Tool.openssl(["x509", "-in", certificate, "-noout", "-serial"])).output
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        return OCSPTestCertificate(certificate: certificate, key: keyPath, serialHex: serial)
    }

    /// A minimal `openssl ca` configuration; every path is relative to the CA's folder (`dir = .`).
    static let configuration = """
        [ ca ]
        default_ca = test_ca

        [ test_ca ]
        dir = .
        database = $dir/index.txt
        new_certs_dir = $dir/certs
        serial = $dir/serial
        crlnumber = $dir/crlnumber
        certificate = $dir/ca.pem
        private_key = $dir/ca.key
        default_md = sha256
        default_days = 30
        default_crl_days = 7
        policy = policy_any
        unique_subject = no
        copy_extensions = none

        [ policy_any ]
        commonName = supplied
        organizationName = optional

        [ req ]
        distinguished_name = req_dn
        prompt = no

        [ req_dn ]
        CN = unused

        [ ca_ext ]
        basicConstraints = critical, CA:true
        keyUsage = critical, keyCertSign, cRLSign, digitalSignature
        subjectKeyIdentifier = hash

        [ ee_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        [ ocsp_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = OCSPSigning
        noCheck = ignored
        subjectKeyIdentifier = 5E:11:11:11:55:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01
        authorityKeyIdentifier = keyid

        [ ocsp_no_eku_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        noCheck = ignored

        [ ocsp_no_nocheck_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = OCSPSigning

        """
}
