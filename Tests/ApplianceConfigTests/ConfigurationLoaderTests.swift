import ApplianceConfig
import Foundation
import SwiftASN1
import Testing

/// The repository root, from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private let minimalTSA = """
    tsa:
      signer: { keyFile: keys/tsa.key, certificateFile: pki/tsa.pem }
      policies:
        - oid: 1.2.3.4
    """

@Suite struct ConfigurationLoaderTests {
    @Test func exampleFileLoadsWithEverySettingApplied() throws {
        let path = repositoryRoot.appendingPathComponent("Config/sigillumd.example.yaml").path
        let config = try ConfigurationLoader.load(file: path, environment: [:])
        #expect(config.stateDirectory == "/var/lib/sigillum")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.adminListen == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(config.http.maxRequestBytes == 16384)
        #expect(config.http.drainSeconds == 10)
        #expect(config.ledger.databasePath == "/var/lib/sigillum/ledger.sqlite")
        #expect(config.tsa.signer.keyFile == "/var/lib/sigillum/keys/tsa.key")
        #expect(config.tsa.signer.chainFile == "/var/lib/sigillum/pki/issuing-ca.pem")
        #expect(config.tsa.policies.count == 2)
        #expect(config.tsa.policies[1].qualified)
        #expect(config.tsa.defaultPolicy == [1, 3, 6, 1, 4, 1, 32473, 1, 1])
        #expect(config.tsa.accuracyMicroseconds == 1_000_000)
        #expect(config.clock.enforce)
        #expect(config.clock.servers.count == 3)
        #expect(config.clock.maximumErrorSeconds == 1)
        #expect(!config.tsa.acceptedHashAlgorithms.contains(.sha1))
        #expect(!config.isDevelopmentDefault)
        #expect(config.ocsp.enabled)
        #expect(config.ocsp.issuers.count == 1)
        #expect(config.ocsp.issuers[0].status == .opensslIndex(path: "/var/lib/sigillum/pki/index.txt"))
        #expect(config.ocsp.issuers[0].signer.keyFile == "/var/lib/sigillum/keys/ocsp.key")
        #expect(config.ocsp.issuers[0].responderID == .byKey)
        #expect(config.ocsp.maxCertIDs == 10)
        #expect(config.ocsp.validitySeconds == 86_400)
        #expect(config.ocsp.nonces == .sign)
    }

    @Test func ocspIsOffWhenLeftOut() throws {
        let config = try ConfigurationLoader.load(yaml: minimalTSA, environment: [:])
        #expect(!config.ocsp.enabled)
        #expect(config.ocsp.issuers.isEmpty)
    }

    @Test(arguments: [
        ("ocsp: { enabled: true }\n", "ocsp.issuers"),
        (
            "ocsp:\n  issuers: [{ signer: { keyFile: a, certificateFile: b }, status: { index: i } }]\n",
            "ocsp.issuers[0].certificateFile"
        ),
        (
            "ocsp:\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: { index: i, crl: c } }]\n",
            "ocsp.issuers[0].status"
        ),
        (
            "ocsp:\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: {} }]\n",
            "ocsp.issuers[0].status"
        ),
        (
            "ocsp:\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: { crl: x }, nonIssuedIsRevoked: true }]\n",
            "ocsp.issuers[0].nonIssuedIsRevoked"
        ),
        (
            "ocsp:\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: { ledger: true }, responderID: byHash }]\n",
            "ocsp.issuers[0].responderID"
        ),
        (
            "ocsp:\n  refreshFraction: 1.0\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: { ledger: true } }]\n",
            "ocsp.refreshFraction"
        ),
        (
            "ocsp:\n  nonces: maybe\n  issuers: [{ certificateFile: c, signer: { keyFile: a, certificateFile: b }, status: { ledger: true } }]\n",
            "ocsp.nonces"
        ),
        (
            "ocsp:\n  issuers: [{ certificateFile: c, signer: { keyFile: a }, status: { ledger: true } }]\n",
            "ocsp.issuers[0].signer.certificateFile"
        ),
    ])
    func invalidOCSPSettingsAreNamed(ocsp: String, keyPath: String) {
        #expect {
            try ConfigurationLoader.load(yaml: minimalTSA + "\n" + ocsp, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == .invalidValue && error.keyPath == keyPath
        }
    }

    @Test func developmentFileMatchesTheEmbeddedDefault() throws {
        let path = repositoryRoot.appendingPathComponent("Config/development.yaml").path
        let overrides = ConfigurationOverrides(stateDirectory: "/tmp/sigillum-config-test")
        var fromFile = try ConfigurationLoader.load(file: path, overrides: overrides, environment: [:])
        let embedded = try ConfigurationLoader.embeddedDefault(overrides: overrides, environment: [:])
        #expect(embedded.isDevelopmentDefault)
        fromFile.isDevelopmentDefault = true
        #expect(fromFile == embedded)
        #expect(!embedded.clock.enforce)
        #expect(embedded.clock.servers.isEmpty)
        #expect(embedded.tsa.policies.contains { $0.qualified })
        #expect(embedded.ocsp.enabled)
        #expect(embedded.ocsp.issuers.first?.signer.certificateFile == "/tmp/sigillum-config-test/pki/ocsp.pem")
    }

    @Test func stateDirectoryPrecedence() throws {
        let yaml = "stateDirectory: /from/file\n" + minimalTSA
        let env = ["STATE_DIRECTORY": "/from/systemd:/other"]
        #expect(try ConfigurationLoader.load(yaml: yaml, environment: env).stateDirectory == "/from/file")
        #expect(
            try ConfigurationLoader.load(yaml: yaml, overrides: .init(stateDirectory: "/from/flag"), environment: env)
                .stateDirectory == "/from/flag"
        )
        #expect(try ConfigurationLoader.load(yaml: minimalTSA, environment: env).stateDirectory == "/from/systemd")
        let fallback = try ConfigurationLoader.load(yaml: minimalTSA, environment: [:]).stateDirectory
        #expect(fallback == FileManager.default.currentDirectoryPath + "/.sigillum")
    }

    @Test func flagsOverrideListeners() throws {
        let config = try ConfigurationLoader.load(
            yaml: "listen: 0.0.0.0:80\n" + minimalTSA,
            overrides: .init(listen: "[::1]:8443", adminListen: "127.0.0.1:0"),
            environment: [:]
        )
        #expect(config.listen == ListenAddress(host: "::1", port: 8443))
        #expect(config.listen.description == "[::1]:8443")
        #expect(config.adminListen.port == 0)
    }

    @Test func clockFlagsOverrideTheFileAndEnforceTheGate() throws {
        let yaml = "clock: { enforce: false, servers: [a.example], probeInterval: 30, maxError: 0.5 }\n" + minimalTSA
        let config = try ConfigurationLoader.load(
            yaml: yaml,
            overrides: .init(
                ntpServers: ["127.0.0.1:12123", "[::1]:123"], probeIntervalSeconds: 1, maximumClockErrorSeconds: 0.005),
            environment: [:]
        )
        #expect(config.clock.enforce)
        #expect(config.clock.servers == ["127.0.0.1:12123", "[::1]:123"])
        #expect(config.clock.probeIntervalSeconds == 1)
        #expect(config.clock.probeTimeoutSeconds == 1)
        #expect(config.clock.maximumErrorSeconds == 0.005)
        let development = try ConfigurationLoader.embeddedDefault(
            overrides: .init(ntpServers: ["127.0.0.1:1"]), environment: [:])
        #expect(development.clock.enforce)
        let dynamic = try ConfigurationLoader.load(yaml: minimalTSA + "\n  accuracy: dynamic", environment: [:])
        #expect(dynamic.tsa.dynamicAccuracy)
    }

    @Test func hardwareSignersAreValidated() throws {
        let piv = try ConfigurationLoader.load(
            yaml: """
                tsa:
                  signer: { type: piv, readers: ["Virtual PCD 00 00"], slot: 9C, pinCredential: card-pin }
                  policies: [{ oid: 1.2.3.4 }]
                """,
            environment: [:])
        #expect(piv.tsa.signer.kind == .piv)
        #expect(piv.tsa.signer.piv == .init(readers: ["Virtual PCD 00 00"], slot: "9c", pin: .credential("card-pin")))
        #expect(piv.tsa.signer.certificateFile == nil)
        let token = try ConfigurationLoader.load(
            yaml: """
                tsa:
                  signer: { type: pkcs11, module: /lib/p11.so, tokenLabel: t, keyId: "a1:b2", pinEnv: PIN }
                  policies: [{ oid: 1.2.3.4 }]
                """,
            environment: [:])
        #expect(token.tsa.signer.pkcs11?.keyID == "a1:b2")
        #expect(token.tsa.signer.pkcs11?.pin == .environment("PIN"))
        for (yaml, keyPath) in [
            ("{ type: piv, slot: 9f, pinFile: p }", "tsa.signer.slot"),
            ("{ type: piv, slot: 9c }", "tsa.signer.pinFile"),
            ("{ type: pkcs11, module: m, tokenLabel: t, keyLabel: k }", "tsa.signer.pinFile"),
            (
                "{ type: pkcs11, module: m, tokenLabel: t, tokenSerial: s, keyLabel: k, pinEnv: P }",
                "tsa.signer.tokenLabel"
            ),
            ("{ type: pkcs11, module: m, tokenLabel: t, keyId: zz, pinEnv: P }", "tsa.signer.keyId"),
            ("{ keyFile: k.pem, certificateFile: c.pem, pinFile: p }", "tsa.signer.pinFile"),
            ("{ keyFile: k.p12, passphraseFile: a, passphraseEnv: B }", "tsa.signer.passphraseFile"),
            ("{ keyFile: k.pem }", "tsa.signer.certificateFile"),
        ] {
            #expect {
                try ConfigurationLoader.load(
                    yaml: "tsa:\n  signer: \(yaml)\n  policies: [{ oid: 1.2.3.4 }]\n", environment: [:])
            } throws: { error in
                (error as? ConfigError)?.keyPath == keyPath
            }
        }
        // A PKCS#12 carries its certificate.
        let p12 = try ConfigurationLoader.load(
            yaml: "tsa:\n  signer: { keyFile: tsa.p12, passphraseCredential: p }\n  policies: [{ oid: 1.2.3.4 }]\n",
            environment: [:])
        #expect(p12.tsa.signer.certificateFile == nil && p12.tsa.signer.passphrase == .credential("p"))
    }

    @Test func defaultsApplyWhenLeftOut() throws {
        let config = try ConfigurationLoader.load(yaml: minimalTSA, environment: [:])
        #expect(config.http.maxRequestBytes == 16 * 1024)
        #expect(config.http.drainSeconds == 10)
        let drain = try ConfigurationLoader.load(yaml: "http: { drainSeconds: 3 }\n" + minimalTSA, environment: [:])
        #expect(drain.http.drainSeconds == 3)
        #expect(config.tsa.acceptedHashAlgorithms == ImprintHashAlgorithm.defaults)
        #expect(config.tsa.defaultPolicy == [1, 2, 3, 4])
        #expect(config.clock.enforce)
        #expect(config.clock.probeIntervalSeconds == 16)
        #expect(config.clock.reopenAfter == 3)
        #expect(!config.tsa.dynamicAccuracy)
        #expect(config.tsa.signer.rsaPadding == .pkcs1)
    }

    @Test(arguments: [
        ("tsa:\n  polices: []\n", "tsa.polices"),
        ("listn: 1.2.3.4:5\n", "listn"),
        ("tsa:\n  signer: { keyFile: a, certificateFile: b, pin: x }\n  policies: [{oid: 1.2.3}]\n", "tsa.signer.pin"),
    ])
    func unknownKeysAreNamed(yaml: String, keyPath: String) {
        #expect {
            try ConfigurationLoader.load(yaml: yaml, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == .unknownKey && error.keyPath == keyPath
        }
    }

    @Test(arguments: [
        ("listen: localhost\n" + minimalTSA, "listen"),
        ("listen: 127.0.0.1:70000\n" + minimalTSA, "listen"),
        ("http: { maxRequestBytes: 10 }\n" + minimalTSA, "http.maxRequestBytes"),
        ("http: { drainSeconds: 0 }\n" + minimalTSA, "http.drainSeconds"),
        ("http: { drainSeconds: 301 }\n" + minimalTSA, "http.drainSeconds"),
        (minimalTSA + "\n  acceptedHashAlgorithms: [sha256, whirlpool]", "tsa.acceptedHashAlgorithms[1]"),
        (minimalTSA + "\n  accuracy: { millis: 1000 }", "tsa.accuracy.millis"),
        (minimalTSA + "\n  accuracy: fast", "tsa.accuracy"),
        ("clock: { maxError: 2 }\n" + minimalTSA, "clock.maxError"),
        ("clock: { servers: [a, a] }\n" + minimalTSA, "clock.servers"),
        ("clock: { servers: [\"a:99999\"] }\n" + minimalTSA, "clock.servers[0]"),
        ("clock: { probeInterval: 1, probeTimeout: 2 }\n" + minimalTSA, "clock.probeTimeout"),
        ("clock: { chrony: maybe }\n" + minimalTSA, "clock.chrony"),
        (
            "tsa:\n  signer: { keyFile: a, certificateFile: b }\n  policies: [{oid: not-an-oid}]\n",
            "tsa.policies[0].oid"
        ),
        (
            "tsa:\n  signer: { keyFile: a, certificateFile: b }\n  policies: [{oid: 1.2.3}, {oid: 1.2.3}]\n",
            "tsa.policies[1].oid"
        ),
        ("tsa:\n  signer: { certificateFile: b }\n  policies: [{oid: 1.2.3}]\n", "tsa.signer.keyFile"),
        (
            "tsa:\n  signer: { keyFile: a, certificateFile: b, type: hsm }\n  policies: [{oid: 1.2.3}]\n",
            "tsa.signer.type"
        ),
        ("tsa:\n  signer: { keyFile: a, certificateFile: b }\n", "tsa.policies"),
        ("listen: 127.0.0.1:8080\nadminListen: 127.0.0.1:8080\n" + minimalTSA, "adminListen"),
        ("stateDirectory: /x\n", "tsa"),
    ])
    func invalidValuesAreNamed(yaml: String, keyPath: String) {
        #expect {
            try ConfigurationLoader.load(yaml: yaml, environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == .invalidValue && error.keyPath == keyPath
        }
    }

    @Test func weakHashesOnlyWhenListed() throws {
        let config = try ConfigurationLoader.load(
            yaml: minimalTSA + "\n  acceptedHashAlgorithms: [sha256, sha1]", environment: [:])
        #expect(config.tsa.acceptedHashAlgorithms == [.sha256, .sha1])
    }

    @Test func syntaxErrorsAreReported() {
        #expect {
            try ConfigurationLoader.load(yaml: "tsa: [unclosed", environment: [:])
        } throws: { error in
            (error as? ConfigError)?.code == .syntax
        }
        #expect {
            try ConfigurationLoader.load(yaml: "http: { maxRequestBytes: lots }\n" + minimalTSA, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.code == .syntax
        }
    }

    @Test func missingFileIsReported() {
        #expect {
            try ConfigurationLoader.load(file: "/nonexistent/sigillumd.yaml", environment: [:])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == .unreadableFile && error.description.contains("/nonexistent/sigillumd.yaml")
        }
    }
}
