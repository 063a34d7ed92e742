import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// A SoftHSM2 token for the daemon, set up with command-line tools only (this target does not link PKCS11Signing):
// `softhsm2-util --init-token` in a private SOFTHSM2_CONF, keys made by our own `sigillum keys generate`, certificates
// for them issued by the development PKI's issuing CA with `openssl x509 -new -force_pubkey`, and stored on the token
// with OpenSC's `pkcs11-tool --write-object` when a test wants the certificate there.

/// One SoftHSM2 installation in a test's folder, with one initialised token.
struct SoftHSMToken: Sendable {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let softHSMUtil = "/usr/bin/softhsm2-util"
    /// OpenSC's PKCS#11 spy: a module that logs every call, then forwards it to `$PKCS11SPY`.
    static let spyModule = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so"
    static let userPIN = "1234"
    static let soPIN = "5678"

    /// SoftHSM2 and its tool are installed (scripts/install-deps.sh test installs them).
    static let available =
        FileManager.default.fileExists(atPath: module) && FileManager.default.isExecutableFile(atPath: softHSMUtil)

    /// `DIRECTORY` holds `softhsm2.conf`, `tokens/` and `user.pin`.
    let directory: String
    let label: String
    /// The folder SoftHSM2 keeps this token in (`tokens/<uuid>`): moving it away takes the token away.
    let tokenFolder: String

    var configurationPath: String { self.directory + "/softhsm2.conf" }
    var tokenDirectory: String { self.directory + "/tokens" }
    /// The user PIN with a trailing newline, as an editor leaves it.
    var pinFile: String { self.directory + "/user.pin" }
    /// What a process using this token needs in its environment.
    var environment: [String: String] { ["SOFTHSM2_CONF": self.configurationPath] }

    /// A new configuration in `directory` and `softhsm2-util --init-token --free --label LABEL`.
    static func initialize(in directory: String, label: String) async throws -> SoftHSMToken {
        let tokens = directory + "/tokens"
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: true)
        let configuration = directory + "/softhsm2.conf"
        try writeFile(
            configuration,
            text: "directories.tokendir = \(tokens)\nobjectstore.backend = file\nlog.level = ERROR\n"
        )
        try writeSecretFile(directory + "/user.pin", text: Self.userPIN + "\n")
        try checked(
            try await Tool.run(
                Self.softHSMUtil,
                [
                    "--init-token", "--free", "--label", label, "--pin", Self.userPIN, "--so-pin", Self.soPIN,
                ],
                environment: ["SOFTHSM2_CONF": configuration]
            ))
        let folders = try FileManager.default.contentsOfDirectory(atPath: tokens)
        guard folders.count == 1, let folder = folders.first else {
            throw IntegrationError("softhsm2-util made \(folders.count) token folders in \(tokens): \(folders)")
        }
        return SoftHSMToken(directory: directory, label: label, tokenFolder: tokens + "/" + folder)
    }

    /// `sigillum keys generate --type TYPE --label LABEL --id ID`; returns the path of the public key PEM it printed.
    func generateKey(
        label: String, id: String, type: TSUKeyType, alwaysAuthenticate: Bool = false
    ) async throws -> String {
        let result = try checked(
            try await Tool.run(
                try Environment.sigillum(),
                [
                    "keys", "generate", "--module", Self.module, "--token", self.label, "--label", label, "--id", id,
                    "--type", type.rawValue, "--pin-file", self.pinFile,
                ] + (alwaysAuthenticate ? ["--always-authenticate"] : []),
                environment: self.environment
            ))
        guard result.output.hasPrefix("-----BEGIN PUBLIC KEY-----") else {
            throw IntegrationError("sigillum keys generate printed no public key:\n\(result)")
        }
        let path = "\(self.directory)/\(label).pub.pem"
        try writeFile(path, text: result.output)
        return path
    }

    /// `pkcs11-tool --write-object CERT.der --type cert --id ID --label LABEL`: the certificate next to the key.
    func storeCertificate(_ certificatePEM: String, id: String, label: String) async throws {
        let der = "\(self.directory)/\(label).cert.der"
        try checked(try await Tool.openssl(["x509", "-in", certificatePEM, "-outform", "DER", "-out", der]))
        try checked(
            try await Tool.run(
                try Environment.tool("pkcs11-tool"),
                [
                    "--module", Self.module, "--token-label", self.label, "--login", "--pin", Self.userPIN,
                    "--write-object", der, "--type", "cert", "--id", id, "--label", label,
                ],
                environment: self.environment
            ))
    }

    /// `pkcs11-tool -L`'s `token flags` line for this token (`login required, rng, … user PIN count low …`).
    func tokenFlags() async throws -> String {
        let result = try checked(
            try await Tool.run(
                try Environment.tool("pkcs11-tool"), ["--module", Self.module, "-L"], environment: self.environment))
        let lines = result.output.split(separator: "\n").map(String.init)
        guard
            let labelLine = lines.firstIndex(where: { $0.contains("token label") && $0.hasSuffix(": \(self.label)") }),
            let flags = lines[labelLine...].first(where: { $0.contains("token flags") })
        else { throw IntegrationError("pkcs11-tool -L does not list the token \(self.label):\n\(result)") }
        return flags
    }

    /// Whether a login with the right PIN works (`pkcs11-tool --login --list-objects`).
    func userCanLogIn() async throws -> ToolResult {
        try await Tool.run(
            try Environment.tool("pkcs11-tool"),
            ["--module", Self.module, "--token-label", self.label, "--login", "--pin", Self.userPIN, "--list-objects"],
            environment: self.environment
        )
    }

    /// The `signer:` settings of a pkcs11 signer on this token, as a YAML flow mapping.
    func signerYAML(
        keyLabel: String,
        certificateFile: String? = nil,
        chainFile: String? = nil,
        pinFile: String? = nil,
        module: String = SoftHSMToken.module
    ) -> String {
        var fields = [
            "type: pkcs11", "module: \(module)", "tokenLabel: \(self.label)", "keyLabel: \(keyLabel)",
            "pinFile: \(pinFile ?? self.pinFile)",
        ]
        if let certificateFile { fields.append("certificateFile: \(certificateFile)") }
        if let chainFile { fields.append("chainFile: \(chainFile)") }
        return "{ " + fields.joined(separator: ", ") + " }"
    }
}

/// Certificates for keys that live elsewhere (a token), issued by the development PKI's issuing CA with the openssl
/// command line: `openssl x509 -new -force_pubkey PUB -CA issuing-ca.pem -CAkey issuing-ca.key`.
enum TokenCertificates {
    enum Profile: String, Sendable {
        /// EN 319 422 / RFC 3161 §2.3: keyUsage digitalSignature, extendedKeyUsage critical timeStamping only.
        case timeStamping = "tsu_ext"
        /// RFC 6960 §4.2.2.2 delegated responder: EKU OCSPSigning and id-pkix-ocsp-nocheck.
        case ocspSigning = "ocsp_ext"
    }

    static let extensions = """
        [ tsu_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = critical, timeStamping
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        [ ocsp_ext ]
        basicConstraints = critical, CA:false
        keyUsage = critical, digitalSignature
        extendedKeyUsage = OCSPSigning
        1.3.6.1.5.5.7.48.1.5 = ASN1:NULL
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """

    /// Issues a certificate for the public key in `publicKey` (PEM) to `C=DE, O=Sigillum Test, CN=commonName`, and
    /// returns the path of the PEM written to `directory`.
    static func issue(
        publicKey: String,
        commonName: String,
        profile: Profile,
        pki: DevelopmentPKI,
        in directory: String
    ) async throws -> String {
        let extensionsFile = directory + "/token-cert-extensions.cnf"
        if !FileManager.default.fileExists(atPath: extensionsFile) {
            try writeFile(extensionsFile, text: Self.extensions)
        }
        let out = "\(directory)/\(commonName.replacingOccurrences(of: " ", with: "-")).pem"
        try checked(
            try await Tool.openssl([
                "x509", "-new", "-subj", "/C=DE/O=Sigillum Test/CN=\(commonName)", "-force_pubkey", publicKey,
                "-CA", pki.issuingCA, "-CAkey", pki.issuingCAKey, "-days", "7", "-sha256",
                "-extfile", extensionsFile, "-extensions", profile.rawValue, "-out", out,
            ]))
        return out
    }
}

extension DaemonConfiguration {
    /// `yaml` with the `tsa.signer` block replaced by `signer` (a flow mapping) and `extra` lines appended (an
    /// `ocsp:` section, say).
    func yaml(tsaSigner signer: String, extra: [String] = []) throws -> String {
        var lines = self.yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "  signer:") else {
            throw IntegrationError("no tsa signer block in:\n\(self.yaml)")
        }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("    ") { end += 1 }
        lines.replaceSubrange(start..<end, with: ["  signer: \(signer)"])
        while lines.last == "" { lines.removeLast() }
        return (lines + extra).joined(separator: "\n") + "\n"
    }

    /// Writes `text` as `sigillumd.yaml` into the state folder and returns the `sigillumd` arguments that use it.
    func write(yaml text: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: self.stateDirectory, withIntermediateDirectories: true)
        let path = self.stateDirectory + "/sigillumd.yaml"
        try writeFile(path, text: text)
        return ["--config", path]
    }
}

/// Polls `probe` every `interval` until it returns a value or `timeout` passes; returns the value and how long it took.
func poll<T>(
    timeout: Duration,
    interval: Duration = .milliseconds(250),
    _ probe: () async throws -> T?
) async throws -> (value: T, elapsed: Duration)? {
    let start = ContinuousClock.now
    while true {
        if let value = try await probe() { return (value, ContinuousClock.now - start) }
        if ContinuousClock.now - start >= timeout { return nil }
        try await Task.sleep(for: interval)
    }
}
