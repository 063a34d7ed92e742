import Foundation

/// A throw-away RFC 3161 TSA made of OpenSSL's own `openssl ts -reply`, set up in a temporary directory: an EC P-256
/// CA, a TSU certificate (serial 0x8A0B0C0D, so that its INTEGER needs a leading 00) with a critical EKU
/// timeStamping, and an `openssl.cnf` with a `[tsa]` section. By hand, the same steps are:
///
/// ```
/// openssl ecparam -name prime256v1 -genkey -noout -out ca.key
/// openssl req -new -x509 -key ca.key -subj "/CN=Sigillum Test CA/O=Sigillum" -days 2 \
///     -config ts.cnf -extensions ca_ext -out ca.pem
/// openssl ecparam -name prime256v1 -genkey -noout -out tsu.key
/// openssl req -new -key tsu.key -subj "/CN=Sigillum Test TSU/O=Sigillum" -config ts.cnf -out tsu.csr
/// openssl x509 -req -in tsu.csr -CA ca.pem -CAkey ca.key -set_serial 0x8A0B0C0D -days 2 \
///     -extfile ts.cnf -extensions tsu_ext -out tsu.pem
/// openssl ts -reply -queryfile req.tsq -signer tsu.pem -inkey tsu.key -config ts.cnf -out resp.tsr
/// ```
struct OpenSSLTSA {
    struct Options: Sendable {
        /// `ess_cert_id_alg`: sha1 makes OpenSSL write signingCertificate, anything else signingCertificateV2.
        var essCertIDAlgorithm = "sha256"
        var clockPrecisionDigits = 3
        var ordering = true
        var tsaName = true
        var accuracy: String? = "secs:1, millisecs:500, microsecs:100"
        /// The serial file's content; OpenSSL increments it before use, so 7F gives the token serial 0x80.
        var serial = "7F"
        /// Whether the CA certificate goes into the token as well (`-chain`).
        var includeChain = false
        var signerDigest = "sha256"
    }

    /// Not 1.2.3.4.1: Debian's default openssl.cnf names that `tsa_policy1`, and `-text` would print the name.
    static let defaultPolicy = "1.2.3.4.2"
    static let otherPolicy = "1.2.3.4"
    static let tsuSerial: [UInt8] = [0x8A, 0x0B, 0x0C, 0x0D]
    static let tsuSubject = "/CN=Sigillum Test TSU/O=Sigillum"
    static let caSubject = "/CN=Sigillum Test CA/O=Sigillum"

    let directory: URL
    let options: Options

    init(in directory: URL, options: Options = Options()) throws {
        self.directory = directory
        self.options = options
        try writeFile(self.configuration, named: "ts.cnf", in: directory)
        try writeFile(options.serial + "\n", named: "serial.txt", in: directory)
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], in: directory)
        try openssl(
            [
                "req", "-new", "-x509", "-key", "ca.key", "-subj", Self.caSubject, "-days", "2",
                "-config", "ts.cnf", "-extensions", "ca_ext", "-out", "ca.pem",
            ],
            in: directory
        )
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "tsu.key"], in: directory)
        try openssl(
            ["req", "-new", "-key", "tsu.key", "-subj", Self.tsuSubject, "-config", "ts.cnf", "-out", "tsu.csr"],
            in: directory
        )
        try openssl(
            [
                "x509", "-req", "-in", "tsu.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", "0x" + hex(Self.tsuSerial, separator: ""), "-days", "2",
                "-extfile", "ts.cnf", "-extensions", "tsu_ext", "-out", "tsu.pem",
            ],
            in: directory
        )
        try openssl(["x509", "-in", "tsu.pem", "-outform", "DER", "-out", "tsu.der"], in: directory)
        try openssl(["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"], in: directory)
        try openssl(["pkey", "-in", "tsu.key", "-pubout", "-out", "tsu.pub"], in: directory)
    }

    /// The TSU certificate's DER.
    func tsuCertificate() throws -> [UInt8] { try readFile(named: "tsu.der", in: self.directory) }

    /// The CA certificate's DER.
    func caCertificate() throws -> [UInt8] { try readFile(named: "ca.der", in: self.directory) }

    /// `openssl ts -reply -queryfile QUERY … -out RESPONSE`; OpenSSL writes rejections as responses too.
    func reply(queryFile: String, responseFile: String) throws {
        var arguments = [
            "ts", "-reply", "-queryfile", queryFile, "-signer", "tsu.pem", "-inkey", "tsu.key",
            "-config", "ts.cnf", "-out", responseFile,
        ]
        if self.options.includeChain { arguments += ["-chain", "ca.pem"] }
        try openssl(arguments, in: self.directory)
    }

    var configuration: String {
        var tsa = """
            [ tsa ]
            default_tsa = tsa_section

            [ tsa_section ]
            serial = ./serial.txt
            crypto_device = builtin
            signer_digest = \(self.options.signerDigest)
            default_policy = \(Self.defaultPolicy)
            other_policies = \(Self.otherPolicy)
            digests = sha1, sha256, sha384, sha512, sha3-256
            clock_precision_digits = \(self.options.clockPrecisionDigits)
            ordering = \(self.options.ordering ? "yes" : "no")
            tsa_name = \(self.options.tsaName ? "yes" : "no")
            ess_cert_id_chain = no
            ess_cert_id_alg = \(self.options.essCertIDAlgorithm)

            """
        if let accuracy = self.options.accuracy {
            tsa += "accuracy = \(accuracy)\n"
        }
        return """
            [ req ]
            distinguished_name = req_dn
            prompt = no

            [ req_dn ]
            CN = unused

            [ ca_ext ]
            basicConstraints = critical, CA:true
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash

            [ tsu_ext ]
            basicConstraints = critical, CA:false
            keyUsage = critical, digitalSignature
            extendedKeyUsage = critical, timeStamping
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid

            """ + tsa
    }
}
