import Crypto
import DevelopmentPKI
import Foundation
import Signing
import SwiftASN1
import Testing
import X509

@Suite("DevelopmentPKI")
struct DevelopmentPKITests {
    @Test("creates every file with the right modes, then reuses them unchanged")
    func createsAndReuses() async throws {
        try await withTemporaryDirectory { directory in
            let state = "\(directory)/state"
            #expect(DevelopmentPKI.missingFiles(stateDirectory: state).count == 13)
            let first = try DevelopmentPKI.ensure(stateDirectory: state)
            #expect(first.created)
            let paths = first.paths
            #expect(paths.tsa == "\(state)/pki/tsa.pem")
            #expect(paths.tsaKey == "\(state)/keys/tsa.key")
            #expect(DevelopmentPKI.missingFiles(stateDirectory: state).isEmpty)

            let certificateFiles = [
                paths.rootCA, paths.issuingCA, paths.tsa, paths.ocsp, paths.eeGood, paths.eeRevoked, paths.index,
            ]
            let keyFiles = [
                paths.rootCAKey, paths.issuingCAKey, paths.tsaKey, paths.ocspKey, paths.eeGoodKey, paths.eeRevokedKey,
            ]
            #expect(try mode(of: paths.certificateDirectory) == 0o755)
            #expect(try mode(of: paths.keyDirectory) == 0o700)
            for file in certificateFiles {
                #expect(try mode(of: file) == 0o644, "\(file)")
            }
            for file in keyFiles {
                #expect(try mode(of: file) == 0o600, "\(file)")
                let text = String(decoding: try readFile(file), as: UTF8.self)
                #expect(text.hasPrefix("-----BEGIN PRIVATE KEY-----"), "\(file)")
                _ = try KeyFileReader.readKey(atPath: file)
            }
            // No temporary files are left behind.
            let leftovers =
                try FileManager.default.contentsOfDirectory(atPath: paths.certificateDirectory)
                + FileManager.default.contentsOfDirectory(atPath: paths.keyDirectory)
            #expect(leftovers.filter { $0.contains(".tmp-") }.isEmpty)

            let before = try (certificateFiles + keyFiles).map(readFile)
            let second = try DevelopmentPKI.ensure(stateDirectory: state, tsuKeyType: .ed25519)
            #expect(!second.created)
            #expect(second.paths == paths)
            #expect(try (certificateFiles + keyFiles).map(readFile) == before)
        }
    }

    @Test("a partial set is regenerated as a whole")
    func regeneratesPartialSet() async throws {
        try await withTemporaryDirectory { directory in
            let (paths, _) = try DevelopmentPKI.ensure(stateDirectory: directory)
            let oldRoot = try readFile(paths.rootCA)
            let oldTSAKey = try readFile(paths.tsaKey)
            try FileManager.default.removeItem(atPath: paths.ocspKey)
            #expect(DevelopmentPKI.missingFiles(stateDirectory: directory) == [paths.ocspKey])
            let again = try DevelopmentPKI.ensure(stateDirectory: directory)
            #expect(again.created)
            #expect(try readFile(paths.rootCA) != oldRoot)
            #expect(try readFile(paths.tsaKey) != oldTSAKey)
            let pki = try DevelopmentPKI.load(stateDirectory: directory)
            try await pki.tsaSigner().verifyKeyMatchesCertificate()
            try await pki.ocspSigner().verifyKeyMatchesCertificate()
            #expect(try mode(of: paths.ocspKey) == 0o600)
        }
    }

    @Test("a keys directory left open is tightened to 0700; a closed state folder stays closed")
    func tightensKeyDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: directory)
            try FileManager.default.createDirectory(
                atPath: "\(directory)/keys",
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o777]
            )
            let (paths, _) = try DevelopmentPKI.ensure(stateDirectory: directory)
            #expect(try mode(of: paths.keyDirectory) == 0o700)
            #expect(try mode(of: directory) == 0o750)
            #expect(try mode(of: paths.certificateDirectory) == 0o755)
        }
    }

    @Test("load on an empty state folder is incompleteSet")
    func loadIncomplete() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: DevelopmentPKIError.self) {
                try DevelopmentPKI.load(stateDirectory: directory)
            }
            #expect(error?.code == .incompleteSet)
            #expect(error?.reason.contains("tsa.pem") == true)
        }
    }

    @Test("the TSU certificate follows RFC 3161 §2.3 and EN 319 422")
    func tsuProfile() async throws {
        try await withTemporaryDirectory { directory in
            let now = Date(timeIntervalSince1970: 1_800_000_000.75)
            _ = try DevelopmentPKI.ensure(stateDirectory: directory, now: now)
            let pki = try DevelopmentPKI.load(stateDirectory: directory)
            let tsa = pki.tsa

            let eku = try #require(tsa.extensions[oid: .X509ExtensionID.extendedKeyUsage])
            #expect(eku.critical)
            let usages = try #require(try tsa.extensions.extendedKeyUsage)
            #expect(Array(usages) == [.timeStamping])

            let keyUsageExtension = try #require(tsa.extensions[oid: .X509ExtensionID.keyUsage])
            #expect(keyUsageExtension.critical)
            #expect(try tsa.extensions.keyUsage == KeyUsage(digitalSignature: true))
            #expect(try tsa.extensions.basicConstraints == .notCertificateAuthority)
            #expect(try tsa.extensions.subjectKeyIdentifier != nil)
            #expect(
                try tsa.extensions.authorityKeyIdentifier?.keyIdentifier
                    == pki.issuingCA.extensions.subjectKeyIdentifier?.keyIdentifier
            )

            let subject = tsa.subject.description
            #expect(subject.contains("C=DE"), "\(subject)")
            #expect(subject.contains("O=Sigillum Development"), "\(subject)")
            #expect(subject.contains("CN=Sigillum Development TSU 1"), "\(subject)")
            #expect(tsa.issuer == pki.issuingCA.subject)
            #expect(tsa.signatureAlgorithm == .ecdsaWithSHA384)
            #expect(tsa.notValidBefore == Date(timeIntervalSince1970: 1_800_000_000 - 3600))
            #expect(tsa.notValidAfter > Date(timeIntervalSince1970: 1_800_000_000 + 3 * 365 * 86400))

            // Serials: positive, at most 20 octets.
            for certificate in [pki.rootCA, pki.issuingCA, pki.tsa, pki.ocsp, pki.eeGood, pki.eeRevoked] {
                var serializer = DER.Serializer()
                try serializer.serialize(certificate.serialNumber.bytes)
                let encoded = serializer.serializedBytes
                #expect(encoded[1] <= 20, "serial of \(certificate.subject) has \(encoded[1]) octets")
            }
        }
    }

    @Test("the CA and OCSP certificates carry their profiles")
    func caAndOCSPProfiles() async throws {
        try await withTemporaryDirectory { directory in
            _ = try DevelopmentPKI.ensure(stateDirectory: directory)
            let pki = try DevelopmentPKI.load(stateDirectory: directory)

            #expect(pki.rootCA.issuer == pki.rootCA.subject)
            #expect(try pki.rootCA.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
            #expect(try pki.issuingCA.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
            for ca in [pki.rootCA, pki.issuingCA] {
                #expect(ca.extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
                #expect(ca.extensions[oid: .X509ExtensionID.keyUsage]?.critical == true)
                #expect(try ca.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
                #expect(P384.Signing.PublicKey(ca.publicKey) != nil)
            }

            let ocsp = pki.ocsp
            #expect(try ocsp.extensions.extendedKeyUsage.map(Array.init) == [.ocspSigning])
            let noCheck = try #require(ocsp.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]])
            #expect(!noCheck.critical)
            #expect(Array(noCheck.value) == [0x05, 0x00])
            #expect(P256.Signing.PublicKey(ocsp.publicKey) != nil)

            for ee in [pki.eeGood, pki.eeRevoked] {
                #expect(try ee.extensions.extendedKeyUsage.map(Array.init) == [.clientAuth])
                #expect(try ee.extensions.keyUsage == KeyUsage(digitalSignature: true))
            }
        }
    }

    @Test("index.txt is an OpenSSL ca database with ee-revoked revoked for keyCompromise")
    func index() async throws {
        try await withTemporaryDirectory { directory in
            let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
            let (paths, _) = try DevelopmentPKI.ensure(stateDirectory: directory, now: now)
            let pki = try DevelopmentPKI.load(stateDirectory: directory)
            let lines = String(decoding: try readFile(paths.index), as: UTF8.self)
                .split(separator: "\n").map {
                    $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                }
            #expect(lines.count == 4)
            for fields in lines {
                #expect(fields.count == 6, "\(fields)")
                #expect(fields[4] == "unknown")
                #expect(fields[3] == fields[3].uppercased())
            }
            func hex(_ certificate: Certificate) -> String {
                certificate.serialNumber.bytes.map { String(format: "%02X", $0) }.joined()
            }
            let revoked = try #require(lines.first { $0[0] == "R" })
            #expect(revoked[1] == "280115080000Z")
            #expect(revoked[2] == "270115080000Z,keyCompromise")
            #expect(revoked[3] == hex(pki.eeRevoked))
            #expect(revoked[5] == "/C=DE/O=Sigillum Development/CN=Sigillum Development End Entity (revoked)")
            let valid = lines.filter { $0[0] == "V" }
            #expect(valid.count == 3)
            #expect(Set(valid.map { $0[3] }) == [hex(pki.tsa), hex(pki.ocsp), hex(pki.eeGood)])
            #expect(valid.allSatisfy { $0[2].isEmpty })
            let tsaLine = try #require(valid.first { $0[3] == hex(pki.tsa) })
            #expect(tsaLine[1] == "300115080000Z")
            #expect(tsaLine[5] == "/C=DE/O=Sigillum Development/CN=Sigillum Development TSU 1")
        }
    }

    @Test("openssl verifies the chain, sees OCSP No Check, and answers OCSP from index.txt")
    func opensslAgrees() async throws {
        try await withTemporaryDirectory { directory in
            let (paths, _) = try DevelopmentPKI.ensure(stateDirectory: directory)

            let tsa = try openssl(
                "verify", "-CAfile", paths.rootCA, "-untrusted", paths.issuingCA, "-purpose", "timestampsign", paths.tsa
            )
            #expect(tsa.status == 0, "\(tsa.output)")
            #expect(tsa.output.contains("tsa.pem: OK"), "\(tsa.output)")
            let ocspChain = try openssl(
                "verify", "-CAfile", paths.rootCA, "-untrusted", paths.issuingCA, "-purpose", "ocsphelper", paths.ocsp
            )
            #expect(ocspChain.status == 0, "\(ocspChain.output)")

            let text = try openssl("x509", "-in", paths.ocsp, "-noout", "-text")
            #expect(text.output.contains("OCSP No Check"), "\(text.output)")
            let tsaText = try openssl("x509", "-in", paths.tsa, "-noout", "-text")
            #expect(tsaText.output.contains("X509v3 Extended Key Usage: critical"), "\(tsaText.output)")
            #expect(tsaText.output.contains("Time Stamping"))

            try writeFile("\(directory)/chain.pem", try readFile(paths.rootCA) + readFile(paths.issuingCA))
            for (certificate, expected) in [(paths.eeGood, "good"), (paths.eeRevoked, "revoked")] {
                let request = try openssl(
                    "ocsp", "-issuer", paths.issuingCA, "-cert", certificate, "-no_nonce",
                    "-reqout", "\(directory)/req.der"
                )
                try #require(request.status == 0, "\(request.output)")
                let response = try openssl(
                    "ocsp", "-index", paths.index, "-rsigner", paths.ocsp, "-rkey", paths.ocspKey,
                    "-CA", paths.issuingCA, "-reqin", "\(directory)/req.der", "-respout", "\(directory)/resp.der"
                )
                try #require(response.status == 0, "\(response.output)")
                let check = try openssl(
                    "ocsp", "-respin", "\(directory)/resp.der", "-issuer", paths.issuingCA, "-cert", certificate,
                    "-CAfile", "\(directory)/chain.pem", "-no_nonce"
                )
                #expect(check.status == 0, "\(check.output)")
                #expect(check.output.contains("Response verify OK"), "\(check.output)")
                #expect(check.output.contains(": \(expected)"), "\(check.output)")
                if expected == "revoked" {
                    #expect(check.output.contains("Reason: keyCompromise"), "\(check.output)")
                }
            }
        }
    }

    @Test("every TSU key type makes a working signer that openssl accepts", arguments: DevelopmentKeyType.allCases)
    func tsuKeyTypes(_ keyType: DevelopmentKeyType) async throws {
        try await withTemporaryDirectory { directory in
            let (paths, created) = try DevelopmentPKI.ensure(stateDirectory: directory, tsuKeyType: keyType)
            #expect(created)
            let pki = try DevelopmentPKI.load(stateDirectory: directory)
            let signer = try pki.tsaSigner()
            let expected: SignatureScheme =
                switch keyType {
                case .ecP256: .ecdsaP256SHA256
                case .ecP384: .ecdsaP384SHA384
                case .rsa2048, .rsa3072: .rsaPKCS1v15SHA256
                case .ed25519: .ed25519
                }
            #expect(signer.scheme == expected)
            #expect(signer.chain == [pki.issuingCA, pki.rootCA])
            try await signer.verifyKeyMatchesCertificate()

            let verify = try openssl(
                "verify", "-CAfile", paths.rootCA, "-untrusted", paths.issuingCA, "-purpose", "timestampsign", paths.tsa
            )
            #expect(verify.status == 0, "\(verify.output)")
            let key = try openssl("pkey", "-in", paths.tsaKey, "-noout")
            #expect(key.status == 0, "\(key.output)")
        }
    }
}
