import Foundation
import PKIMessages
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Signers from the configuration file, through the real daemon: keys on a SoftHSM2 token (`signer.type: pkcs11`) and
/// protected key files (`signer.type: software` with a passphrase). Every stamp is verified with `openssl ts -verify`
/// and every OCSP answer with `openssl ocsp`, against the development PKI whose issuing CA certified the keys.
///
/// One test at a time: each starts a daemon, and the token tests move token folders around.
@Suite("Signers from the configuration: PKCS#11 token and protected key files", .serialized)
struct HSMSignerTests {
    static let tokenLabel = "SigillumIT"
    /// The CKA_IDs the tests give the keys (so the certificate stored next to a key can name it).
    static let tsaKeyID = "7501"
    static let ocspKeyID = "0c51"

    /// What a token test works with: its folder, the token, the development PKI, and the TSU certificate issued for
    /// the token's key.
    struct TokenSetup: Sendable {
        var directory: String
        var token: SoftHSMToken
        var pki: DevelopmentPKI
        var tsaCommonName: String
        var tsaCertificate: String
        /// The delegated OCSP responder certificate for the token's `ocsp` key (also stored on the token), when made.
        var ocspCertificate: String?
        var tsaSubject: String { "/C=DE/O=Sigillum Test/CN=\(self.tsaCommonName)" }
        var eeGood: String { self.pki.directory + "/pki/ee-good.pem" }
        var eeRevoked: String { self.pki.directory + "/pki/ee-revoked.pem" }
        var state: String { self.directory + "/state" }
    }

    /// A token with a TSU key `tsa` of `type` (certificate stored on the token when `tsaCertificateOnToken`) and,
    /// with `ocsp`, an EC P-256 key `ocsp` whose delegated responder certificate is stored on the token.
    static func withToken<R>(
        _ label: String,
        type: TSUKeyType,
        tsaCertificateOnToken: Bool,
        ocsp: Bool,
        alwaysAuthenticate: Bool = false,
        _ body: (TokenSetup) async throws -> R
    ) async throws -> R {
        let pki = try await SharedFixtures.shared.pki(.ecP256)
        return try await withTemporaryDirectory(label) { directory in
            let token = try await SoftHSMToken.initialize(in: directory + "/hsm", label: Self.tokenLabel)
            let commonName = "HSM TSU \(type.rawValue)"
            let tsaPublicKey = try await token.generateKey(
                label: "tsa", id: Self.tsaKeyID, type: type, alwaysAuthenticate: alwaysAuthenticate)
            let tsaCertificate = try await TokenCertificates.issue(
                publicKey: tsaPublicKey, commonName: commonName, profile: .timeStamping, pki: pki, in: directory)
            if tsaCertificateOnToken {
                try await token.storeCertificate(tsaCertificate, id: Self.tsaKeyID, label: "tsa")
            }
            var ocspCertificate: String?
            if ocsp {
                let publicKey = try await token.generateKey(label: "ocsp", id: Self.ocspKeyID, type: .ecP256)
                let certificate = try await TokenCertificates.issue(
                    publicKey: publicKey, commonName: "HSM OCSP Responder", profile: .ocspSigning, pki: pki,
                    in: directory)
                try await token.storeCertificate(certificate, id: Self.ocspKeyID, label: "ocsp")
                ocspCertificate = certificate
            }
            return try await body(
                TokenSetup(
                    directory: directory, token: token, pki: pki, tsaCommonName: commonName,
                    tsaCertificate: tsaCertificate, ocspCertificate: ocspCertificate))
        }
    }

    /// The daemon configuration of a token test: the TSA signing with the token's `tsa` key (its certificate from
    /// the file unless it is on the token), and with `ocsp`, an OCSP issuer (the development issuing CA, its
    /// index.txt) answered for by the token's `ocsp` key with the responder certificate found on the token.
    static func arguments(_ setup: TokenSetup, tsaCertificateOnToken: Bool, ocsp: Bool) throws -> [String] {
        let base = DaemonConfiguration(stateDirectory: setup.state, pki: setup.pki)
        let signer = setup.token.signerYAML(
            keyLabel: "tsa", certificateFile: tsaCertificateOnToken ? nil : setup.tsaCertificate,
            chainFile: setup.pki.issuingCA)
        var extra: [String] = []
        if ocsp {
            try FileManager.default.createDirectory(atPath: setup.state, withIntermediateDirectories: true)
            let index = setup.state + "/index.txt"
            try writeFile(index, text: readText(setup.pki.directory + "/pki/index.txt"))
            extra = [
                "ocsp:",
                "  issuers:",
                "    - certificateFile: \(setup.pki.issuingCA)",
                "      signer: \(setup.token.signerYAML(keyLabel: "ocsp"))",
                "      status: { index: \(index) }",
            ]
        }
        return try base.write(yaml: try base.yaml(tsaSigner: signer, extra: extra))
    }

    // MARK: - Checks

    /// `openssl ts -query -data FILE -sha256 -cert`, POSTed; the reply must be granted and pass
    /// `openssl ts -verify -data FILE -CAfile root-ca.pem -untrusted issuing-ca.pem`, with the TSA name `subject`
    /// (so the certificate the daemon found is the one issued for the key).
    static func stampVerified(
        _ banner: Banner,
        pki: DevelopmentPKI,
        subject: String,
        in directory: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let name = UUID().uuidString.prefix(8)
        let data = "\(directory)/data-\(name).bin"
        let query = "\(directory)/query-\(name).tsq"
        let reply = "\(directory)/reply-\(name).tsr"
        try writeFile(data, randomBytes(1000))
        try await Requests.openssl(data: data, out: query)
        let response = try await TSAClient.post(
            file: query, to: banner, responsePath: reply, sourceLocation: sourceLocation)
        #expect(response.status == .granted, "\(response.parsed.status)", sourceLocation: sourceLocation)
        let verify = try await OpenSSLTS.verify(
            response: reply, data: data, caFile: pki.rootCA, untrusted: pki.issuingCA)
        #expect(
            verify.succeeded && verify.output.contains("Verification: OK"), "\(verify)", sourceLocation: sourceLocation)
        let text = try await OpenSSLTS.replyText(reply)
        #expect(
            text.contains("TSA: DirName:\(subject)"), "\(text)",
            sourceLocation: sourceLocation)
    }

    /// `openssl ocsp -issuer issuing-ca.pem -cert CERT -url URL -CAfile root-ca.pem -verify_other issuing-ca.pem`
    /// (with a nonce: signed live): "Response verify OK" and `expected`; the responder certificate in the answer is
    /// `responder`.
    static func ocspVerified(
        _ endpoint: OCSPEndpoint,
        setup: TokenSetup,
        certificate: String,
        expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let responsePath = "\(setup.directory)/ocsp-\(UUID().uuidString.prefix(8)).der"
        let query = try await OpenSSLOCSP.query(
            url: endpoint.url, issuer: setup.pki.issuingCA, certificates: [certificate], caFile: setup.pki.rootCA,
            nonce: true, responseOut: responsePath, extra: ["-verify_other", setup.pki.issuingCA])
        #expect(query.succeeded && query.verified, "\(query)", sourceLocation: sourceLocation)
        #expect(query.status(certificate) == expected, "\(query)", sourceLocation: sourceLocation)
        #expect(!query.nonceMissing, "\(query)", sourceLocation: sourceLocation)
        if let responder = setup.ocspCertificate {
            let response = try ReceivedOCSPResponse(try readFile(responsePath))
            let carried = response.basic?.certs?.map { Array($0.bytes) } ?? []
            #expect(
                carried == [try await OpenSSLOCSP.certificateDER(responder)],
                "the answer carries the responder certificate stored on the token", sourceLocation: sourceLocation)
        }
    }

    /// `GET /health`: status and body.
    static func health(_ banner: Banner) async throws -> HTTPExchange {
        try await HTTPClient.get(banner.healthURL)
    }

    // MARK: - 1, 2: stamps and OCSP answers signed on the token

    /// EC P-256 on the token: the TSU certificate comes from a file, the OCSP responder certificate from the token
    /// (found by the key's CKA_ID). Stamps verify with openssl ts, answers (good and revoked) with openssl ocsp.
    @Test(
        "EC P-256 on the token: stamps with the certificate from a file, OCSP answers with the certificate on the token",
        .enabled(if: SoftHSMToken.available), .timeLimit(.minutes(2)))
    func ecP256TokenStampsAndOCSP() async throws {
        try await Self.withToken("hsm-ec", type: .ecP256, tsaCertificateOnToken: false, ocsp: true) { setup in
            let arguments = try Self.arguments(setup, tsaCertificateOnToken: false, ocsp: true)
            try await withDaemon(arguments, logDirectory: setup.directory, environment: setup.token.environment) {
                daemon, banner in
                #expect(daemon.stderr.contains("PKCS#11 signer ready"), "\(daemon.logs)")
                for _ in 0..<3 {
                    try await Self.stampVerified(
                        banner, pki: setup.pki, subject: setup.tsaSubject, in: setup.directory)
                }
                let health = try await Self.health(banner)
                #expect(health.status == 200, "\(health)")
                #expect(health.text.contains("\"signer\" : \"pkcs11 ecdsa"), "\(health)")

                guard let endpoint = OCSPEndpoint.parse(daemon.stdout, banner: banner) else {
                    throw IntegrationError("the banner announces no OCSP URLs:\n\(daemon.stdout)")
                }
                try await Self.ocspVerified(endpoint, setup: setup, certificate: setup.eeGood, expected: "good")
                try await Self.ocspVerified(endpoint, setup: setup, certificate: setup.eeRevoked, expected: "revoked")

                // A reload (SIGHUP) opens new sessions on the same module (initialised once per process) and closes
                // the old signers' sessions once their requests are done; the token keeps signing both services.
                kill(daemon.pid, SIGHUP)
                try await SystemdTests.waitForGeneration(2, banner)
                try await Self.stampVerified(banner, pki: setup.pki, subject: setup.tsaSubject, in: setup.directory)
                try await Self.ocspVerified(endpoint, setup: setup, certificate: setup.eeRevoked, expected: "revoked")
                #expect(try await Self.health(banner).status == 200)
                #expect(!daemon.stderr.contains("reload refused"), "\(daemon.logs)")
            }
        }
    }

    /// RSA-2048 on the token, the TSU certificate stored on the token next to the key (no certificateFile).
    @Test(
        "RSA-2048 on the token: stamps with the certificate stored on the token",
        .enabled(if: SoftHSMToken.available), .timeLimit(.minutes(2)))
    func rsa2048TokenStamps() async throws {
        try await Self.withToken("hsm-rsa", type: .rsa2048, tsaCertificateOnToken: true, ocsp: false) { setup in
            let arguments = try Self.arguments(setup, tsaCertificateOnToken: true, ocsp: false)
            let yaml = readText(setup.state + "/sigillumd.yaml")
            #expect(!yaml.contains("certificateFile: \(setup.tsaCertificate)"), "\(yaml)")
            let health = try await Self.stampThriceOnDaemon(setup, arguments: arguments)
            #expect(health.text.contains("\"signer\" : \"pkcs11 rsa-pkcs1v15-sha256\""), "\(health)")
        }
    }

    /// Starts the daemon, stamps three times (each token verified by openssl) and expects /health 200; returns it.
    static func stampThriceOnDaemon(_ setup: TokenSetup, arguments: [String]) async throws -> HTTPExchange {
        try await withDaemon(arguments, logDirectory: setup.directory, environment: setup.token.environment) {
            _, banner in
            for _ in 0..<3 {
                try await Self.stampVerified(banner, pki: setup.pki, subject: setup.tsaSubject, in: setup.directory)
            }
            let health = try await Self.health(banner)
            #expect(health.status == 200, "\(health)")
            return health
        }
    }

    /// A TSU key made with `sigillum keys generate --always-authenticate` (CKA_ALWAYS_AUTHENTICATE): the token
    /// wants the PIN for each signature, and the daemon stamps with it, every token verifying with openssl.
    @Test(
        "a key with CKA_ALWAYS_AUTHENTICATE on the token: the daemon stamps with it",
        .enabled(if: SoftHSMToken.available), .timeLimit(.minutes(2)))
    func alwaysAuthenticateKeyStamps() async throws {
        try await Self.withToken(
            "hsm-always-auth", type: .ecP256, tsaCertificateOnToken: false, ocsp: false, alwaysAuthenticate: true
        ) { setup in
            // OpenSC's own reading of the key the CLI made.
            let listed = try await Tool.run(
                try Environment.tool("pkcs11-tool"),
                [
                    "--module", SoftHSMToken.module, "--token-label", Self.tokenLabel, "--login", "--pin",
                    SoftHSMToken.userPIN, "--list-objects", "--type", "privkey", "--label", "tsa",
                ],
                environment: setup.token.environment)
            #expect(listed.succeeded && listed.output.contains("always authenticate"), "\(listed)")
            _ = try await Self.stampThriceOnDaemon(
                setup, arguments: try Self.arguments(setup, tsaCertificateOnToken: false, ocsp: false))
        }
    }

    // MARK: - 3: the token taken away and brought back

    /// With the daemon serving, the token's folder is moved away: stamps are refused with systemFailure, /health says
    /// 503 naming the signer, live OCSP (a nonce) answers tryLater while the pre-signed answer for ee-good is still
    /// served (POST and GET). With the folder back, stamps and live answers resume in the same process.
    @Test(
        "token taken away mid-run: systemFailure, 503, OCSP tryLater but cache served; back: recovery without restart",
        .enabled(if: SoftHSMToken.available), .timeLimit(.minutes(3)))
    func tokenTakenAwayAndBack() async throws {
        try await Self.withToken("hsm-away", type: .ecP256, tsaCertificateOnToken: false, ocsp: true) { setup in
            let arguments = try Self.arguments(setup, tsaCertificateOnToken: false, ocsp: true)
            try await withDaemon(arguments, logDirectory: setup.directory, environment: setup.token.environment) {
                daemon, banner in
                guard let endpoint = OCSPEndpoint.parse(daemon.stdout, banner: banner) else {
                    throw IntegrationError("the banner announces no OCSP URLs:\n\(daemon.stdout)")
                }
                let pid = daemon.pid
                try await Self.stampVerified(banner, pki: setup.pki, subject: setup.tsaSubject, in: setup.directory)
                // A request without a nonce can come from the pre-signed cache; one with a nonce cannot.
                let cachedRequest = try await OpenSSLOCSP.makeRequest(
                    issuer: setup.pki.issuingCA, certificates: [setup.eeGood], nonce: false,
                    out: setup.directory + "/cached.req")
                let liveRequest = try await OpenSSLOCSP.makeRequest(
                    issuer: setup.pki.issuingCA, certificates: [setup.eeGood], nonce: true,
                    out: setup.directory + "/live.req")
                let getURL = endpoint.getPrefix + OCSPHTTP.percentEncoded(OCSPHTTP.base64(cachedRequest))
                let before = try ReceivedOCSPResponse(try await OCSPHTTP.post(endpoint, body: cachedRequest).body)
                #expect(before.status == .successful)
                #expect(try ReceivedOCSPResponse(try await HTTPClient.get(getURL).body).status == .successful)
                #expect(
                    try ReceivedOCSPResponse(try await OCSPHTTP.post(endpoint, body: liveRequest).body).status
                        == .successful)

                // Take the token away.
                let away = setup.token.directory + "/away"
                guard rename(setup.token.tokenFolder, away) == 0 else {
                    throw IntegrationError("rename \(setup.token.tokenFolder) → \(away) failed: errno \(errno)")
                }
                let request = try Requests.make()
                let refused = try await poll(timeout: .seconds(30)) { () async throws -> ReceivedResponse? in
                    let response = try await TSAClient.post(request, to: banner)
                    return response.status == .rejection ? response : nil
                }
                let refusal = try #require(refused, "stamps still granted 30 s after the token went away")
                #expect(refusal.value.failInfo == .systemFailure, "\(refusal.value.parsed.status)")
                #expect(refusal.value.tokenDER == nil)
                print("HSM: token away → first refused stamp after \(refusal.elapsed)")

                let unhealthy = try await poll(timeout: .seconds(15)) { () async throws -> HTTPExchange? in
                    let health = try await Self.health(banner)
                    return health.status == 503 ? health : nil
                }
                let health = try #require(unhealthy, "/health still 200 15 s after the token went away").value
                #expect(health.text.contains("signer: "), "\(health)")
                #expect(health.text.contains(Self.tokenLabel), "the reason names the token: \(health)")

                let tryLater = try await poll(timeout: .seconds(15)) { () async throws -> HTTPExchange? in
                    let exchange = try await OCSPHTTP.post(endpoint, body: liveRequest)
                    return exchange.body == OCSPMessages.errorResponse(3) ? exchange : nil
                }
                let answer = try #require(tryLater, "live OCSP never answered tryLater").value
                #expect(answer.status == 200, "\(answer)")
                #expect(try ReceivedOCSPResponse(answer.body).status == .tryLater)
                let respPath = setup.directory + "/trylater.der"
                try writeFile(respPath, answer.body)
                let text = try await OpenSSLOCSP.responseText(respPath)
                #expect(text.allOutput.contains("trylater"), "\(text)")
                // The failed live signature made the OCSP signer unavailable too: /health says so.
                let bothDown = try await Self.health(banner)
                let document = try JSONSerialization.jsonObject(with: Data(bothDown.body)) as? [String: Any]
                #expect((document?["ocsp"] as? [String: Any])?["serving"] as? Bool == false, "\(bothDown)")
                #expect(bothDown.status == 503, "\(bothDown)")

                // The pre-signed answer for ee-good is still served, over POST and GET, and still verifies.
                let cachedPost = try await OCSPHTTP.post(endpoint, body: cachedRequest)
                #expect(cachedPost.body == before.der, "the cached POST answer changed while the token was away")
                let cachedGet = try await HTTPClient.get(getURL)
                #expect(try ReceivedOCSPResponse(cachedGet.body).status == .successful, "\(cachedGet)")
                let cachedPath = setup.directory + "/cached.der"
                try writeFile(cachedPath, cachedGet.body)
                let cachedCheck = try await OpenSSLOCSP.run([
                    "-respin", cachedPath, "-reqin", setup.directory + "/cached.req", "-issuer", setup.pki.issuingCA,
                    "-cert", setup.eeGood, "-CAfile", setup.pki.rootCA, "-verify_other", setup.pki.issuingCA,
                    "-resp_text",
                ])
                #expect(cachedCheck.verified && cachedCheck.status(setup.eeGood) == "good", "\(cachedCheck)")

                // Bring it back: stamps are granted again, in the same process.
                guard rename(away, setup.token.tokenFolder) == 0 else {
                    throw IntegrationError("rename \(away) → \(setup.token.tokenFolder) failed: errno \(errno)")
                }
                let granted = try await poll(timeout: .seconds(60), interval: .milliseconds(500)) {
                    () async throws -> ReceivedResponse? in
                    let response = try await TSAClient.post(try Requests.make(), to: banner)
                    return response.status == .granted ? response : nil
                }
                let recovery = try #require(granted, "no stamp granted 60 s after the token came back")
                print("HSM: token back → first granted stamp after \(recovery.elapsed)")
                #expect(daemon.isRunning && daemon.pid == pid)
                try await Self.stampVerified(banner, pki: setup.pki, subject: setup.tsaSubject, in: setup.directory)
                let healthy = try await poll(timeout: .seconds(30)) { () async throws -> HTTPExchange? in
                    let health = try await Self.health(banner)
                    return health.status == 200 ? health : nil
                }
                #expect(healthy != nil, "/health not 200 again 30 s after the token came back")
                let liveAgain = try await poll(timeout: .seconds(30)) { () async throws -> ReceivedOCSPResponse? in
                    let response = try ReceivedOCSPResponse(try await OCSPHTTP.post(endpoint, body: liveRequest).body)
                    return response.status == .successful ? response : nil
                }
                #expect(liveAgain != nil, "live OCSP not answered again 30 s after the token came back")
                try await Self.ocspVerified(endpoint, setup: setup, certificate: setup.eeGood, expected: "good")
            }
        }
    }

    // MARK: - 4: a wrong PIN

    /// A wrong PIN stops the start-up with an error naming C_Login and CKR_PIN_INCORRECT, after one login attempt
    /// (counted by OpenSC's PKCS#11 spy between the daemon and SoftHSM2, when it is installed); the token is not
    /// locked and takes the right PIN afterwards.
    @Test(
        "a wrong PIN: the daemon exits at start-up naming C_Login, after one attempt",
        .enabled(if: SoftHSMToken.available))
    func wrongPIN() async throws {
        try await Self.withToken("hsm-pin", type: .ecP256, tsaCertificateOnToken: false, ocsp: false) { setup in
            let wrongPIN = setup.directory + "/wrong.pin"
            try writeSecretFile(wrongPIN, text: "9999\n")
            let spy = FileManager.default.fileExists(atPath: SoftHSMToken.spyModule)
            let spyLog = setup.directory + "/pkcs11-spy.log"
            let base = DaemonConfiguration(stateDirectory: setup.state, pki: setup.pki)
            let signer = setup.token.signerYAML(
                keyLabel: "tsa", certificateFile: setup.tsaCertificate, chainFile: setup.pki.issuingCA,
                pinFile: wrongPIN, module: spy ? SoftHSMToken.spyModule : SoftHSMToken.module)
            let arguments = try base.write(yaml: try base.yaml(tsaSigner: signer))
            var environment = setup.token.environment
            if spy {
                environment["PKCS11SPY"] = SoftHSMToken.module
                environment["PKCS11SPY_OUTPUT"] = spyLog
            }
            let daemon = try DaemonProcess.start(arguments, logDirectory: setup.directory, environment: environment)
            let status = await daemon.waitForExit(timeout: .seconds(30))
            if status == nil { await daemon.stop() }
            #expect(status != nil && status != 0, "\(daemon.logs)")
            let stderr = daemon.stderr
            #expect(stderr.contains("C_Login") && stderr.contains("CKR_PIN_INCORRECT"), "\(daemon.logs)")
            #expect(stderr.contains("PIN"), "\(daemon.logs)")
            #expect(!stderr.contains("PKCS#11 signer ready"), "\(daemon.logs)")
            #expect(Banner.parse(daemon.stdout) == nil, "\(daemon.logs)")

            if spy {
                // The spy numbers each call: "12: C_Login".
                let logins = readText(spyLog).split(separator: "\n").filter { $0.hasSuffix(": C_Login") }
                #expect(logins.count == 1, "C_Login calls seen by the spy: \(logins)")
            }
            let flags = try await setup.token.tokenFlags()
            #expect(!flags.contains("locked") && !flags.contains("final try"), "\(flags)")
            let login = try await setup.token.userCanLogIn()
            #expect(login.succeeded, "the right PIN no longer works:\n\(login)")
        }
    }

    // MARK: - 5: protected key files

    /// The protected key files the daemon reads, each from the development PKI's TSU key and certificate.
    enum KeyFile: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// `openssl pkcs12 -export` (OpenSSL 3 defaults: AES-256-CBC, PBKDF2), EC P-256, chain inside, passphraseFile.
        case pkcs12EC = "PKCS#12 EC P-256 (OpenSSL 3 default), passphraseFile"
        /// `openssl pkcs12 -export -legacy` (RC2-40 / 3DES, SHA-1 MAC), RSA-2048, passphraseFile.
        case pkcs12RSALegacy = "PKCS#12 RSA-2048 (-legacy), passphraseFile"
        /// `openssl pkcs8 -topk8 -v2 aes-256-cbc`, EC P-256, certificateFile, passphraseEnv.
        case encryptedPKCS8 = "encrypted PKCS#8 EC P-256 (aes-256-cbc), passphraseEnv + certificateFile"

        var testDescription: String { self.rawValue }
        var keyType: TSUKeyType { self == .pkcs12RSALegacy ? .rsa2048 : .ecP256 }
        static let passphraseVariable = "SIGILLUM_IT_KEY_PASSPHRASE"

        /// Writes the protected file and returns the signer's flow mapping and the daemon's extra environment.
        func make(
            pki: DevelopmentPKI,
            in directory: String,
            passphrase: String
        ) async throws -> (signer: String, environment: [String: String], keyFile: String) {
            let passphraseFile = directory + "/passphrase.txt"
            try writeSecretFile(passphraseFile, text: passphrase + "\n")
            switch self {
            case .pkcs12EC, .pkcs12RSALegacy:
                let keyFile = directory + "/tsu.p12"
                var arguments = [
                    "pkcs12", "-export", "-inkey", pki.tsaKey, "-in", pki.tsa, "-passout", "pass:correct horse battery",
                    "-out", keyFile, "-name", "tsu",
                ]
                if self == .pkcs12RSALegacy {
                    arguments.append("-legacy")
                } else {
                    arguments += ["-certfile", pki.issuingCA]
                }
                try checked(try await Tool.openssl(arguments))
                return (
                    "{ type: software, keyFile: \(keyFile), passphraseFile: \(passphraseFile) }", [:], keyFile
                )
            case .encryptedPKCS8:
                let keyFile = directory + "/tsu-encrypted.pem"
                try checked(
                    try await Tool.openssl([
                        "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", pki.tsaKey, "-passout",
                        "pass:correct horse battery", "-out", keyFile,
                    ]))
                return (
                    "{ type: software, keyFile: \(keyFile), certificateFile: \(pki.tsa), chainFile: \(pki.issuingCA), "
                        + "passphraseEnv: \(Self.passphraseVariable) }",
                    [Self.passphraseVariable: passphrase], keyFile
                )
            }
        }
    }

    /// Each protected key file serves stamps that openssl verifies.
    @Test("protected key files serve verified stamps", .timeLimit(.minutes(2)), arguments: KeyFile.allCases)
    func keyFileServes(_ kind: KeyFile) async throws {
        let pki = try await SharedFixtures.shared.pki(kind.keyType)
        try await withTemporaryDirectory("keyfile") { directory in
            let made = try await kind.make(pki: pki, in: directory, passphrase: "correct horse battery")
            let base = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            let arguments = try base.write(yaml: try base.yaml(tsaSigner: made.signer))
            try await withDaemon(arguments, logDirectory: directory, environment: made.environment) { _, banner in
                for _ in 0..<2 {
                    try await Self.stampVerified(
                        banner, pki: pki, subject: "/C=DE/O=Sigillum Development/CN=Sigillum Development TSU 1",
                        in: directory)
                }
            }
        }
    }

    /// A wrong passphrase stops the start-up with a message naming the file and saying the passphrase is wrong.
    @Test("a wrong passphrase: the daemon exits at start-up naming the key file", arguments: KeyFile.allCases)
    func wrongPassphrase(_ kind: KeyFile) async throws {
        let pki = try await SharedFixtures.shared.pki(kind.keyType)
        try await withTemporaryDirectory("keyfile-wrong") { directory in
            let made = try await kind.make(pki: pki, in: directory, passphrase: "not the passphrase")
            let base = DaemonConfiguration(stateDirectory: directory + "/state", pki: pki)
            let arguments = try base.write(yaml: try base.yaml(tsaSigner: made.signer))
            let daemon = try DaemonProcess.start(arguments, logDirectory: directory, environment: made.environment)
            let status = await daemon.waitForExit(timeout: .seconds(30))
            if status == nil { await daemon.stop() }
            #expect(status != nil && status != 0, "\(daemon.logs)")
            let stderr = daemon.stderr
            #expect(stderr.contains(made.keyFile), "\(daemon.logs)")
            #expect(stderr.contains("passphrase is wrong"), "\(daemon.logs)")
            #expect(Banner.parse(daemon.stdout) == nil, "\(daemon.logs)")
        }
    }
}
