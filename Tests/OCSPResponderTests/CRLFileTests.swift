import Foundation
import PKIMessages
import SwiftASN1
import Testing
import X509

@testable import OCSPResponder

/// The lookup key of the certificate named `name`.
func key(_ certificates: [String: Certificate], _ name: String) throws -> SerialNumberKey {
    guard let certificate = certificates[name] else {
        throw TestFailure("no certificate \(name)")
    }
    return SerialNumberKey(certificate.serialNumber)
}

@Suite("CRL files", .timeLimit(.minutes(1)))
struct CRLFileTests {
    /// A CA with four certificates, three of them revoked (keyCompromise, certificateHold with a hold instruction,
    /// keyTime), and its CRL as `crl.pem` and `crl.der`.
    func makeCA(in directory: TemporaryDirectory) throws -> (OpenSSLTestCA, [String: Certificate]) {
        let ca = try OpenSSLTestCA(in: directory.url.appendingPathComponent("ca"))
        var certificates: [String: Certificate] = [:]
        for name in ["good", "key-compromise", "hold", "key-time"] {
            certificates[name] = try ca.issue(name)
        }
        try ca.revoke("key-compromise", ["-crl_reason", "keyCompromise"])
        try ca.revoke("hold", ["-crl_hold", "holdInstructionCallIssuer"])
        try ca.revoke("key-time", ["-crl_compromise", "20261101120000Z"])
        try ca.generateCRL()
        return (ca, certificates)
    }

    @Test("openssl ca -gencrl, PEM and DER: the entries, reasons and dates of index.txt; nextUpdate reported")
    func pemAndDER() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, certificates) = try self.makeCA(in: directory)
            let index = try OpenSSLIndexFile.parse(try readBytes(ca.indexPath), path: ca.indexPath)
            let issuer = try ca.certificate()
            let crlText = try openssl(["crl", "-in", "crl.pem", "-noout", "-nextupdate"], in: ca.directory).stdout
            let nextUpdate = OpenSSLTestCA.parseOpenSSLTime(
                String(crlText.drop { $0 != "=" }.dropFirst()).trimmingCharacters(in: .whitespacesAndNewlines)
            )

            for file in ["crl.pem", "crl.der"] {
                let source = CRLFile(path: ca.path(file), issuer: issuer)
                let status = try source.parse(try readBytes(ca.path(file)))
                #expect(!status.knowsAllIssued)
                #expect(status.entries.count == 3, "\(file)")
                for (serial, entry) in index.entries {
                    switch entry {
                    case .good:
                        #expect(status.entries[serial] == nil, "\(file) \(serial)")
                    case .revoked(let expected):
                        guard case .revoked(let revocation)? = status.entries[serial] else {
                            Issue.record("\(file): \(serial) is not revoked")
                            continue
                        }
                        #expect(revocation.time == expected.time, "\(file) \(serial)")
                        #expect(revocation.reason == expected.reason, "\(file) \(serial)")
                        #expect(revocation.invalidityDate == expected.invalidityDate, "\(file) \(serial)")
                        #expect(revocation.holdInstruction == expected.holdInstruction, "\(file) \(serial)")
                    }
                }
                let hold = try key(certificates, "hold")
                guard case .revoked(let holdRevocation)? = status.entries[hold] else {
                    Issue.record("hold not revoked")
                    continue
                }
                #expect(holdRevocation.reason == .certificateHold)
                #expect(holdRevocation.holdInstruction == ASN1ObjectIdentifier.HoldInstruction.callIssuer)

                let metadata = try #require(status.crl)
                #expect(metadata.issuer == issuer.subject)
                #expect(metadata.nextUpdate == nextUpdate)
                #expect(try #require(nextUpdate).timeIntervalSince(metadata.thisUpdate) == 7 * 86_400)
                #expect(metadata.crlNumber == [0x10, 0x00])

                let snapshot = StatusSnapshot(
                    status, sourceKind: .crl, sourcePath: file, generation: 1, loadedAt: Date())
                let good = try key(certificates, "good")
                #expect(snapshot.resolve(good, nonIssuedIsRevoked: true) == .good)
            }
        }
    }

    @Test("a CRL of another CA is refused, whatever its signature")
    func otherIssuer() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, _) = try self.makeCA(in: directory)
            let other = try OpenSSLTestCA(
                in: directory.url.appendingPathComponent("other"),
                subject: "/CN=Another CA/O=Sigillum"
            )
            for verifies in [true, false] {
                let source = CRLFile(
                    path: ca.path("crl.der"), issuer: try other.certificate(), verifiesSignature: verifies)
                #expect(throws: OCSPResponderError.self) {
                    try source.parse(try readBytes(ca.path("crl.der")))
                }
                do {
                    _ = try source.parse(try readBytes(ca.path("crl.der")))
                } catch let error as OCSPResponderError {
                    #expect(error.code == .crlIssuerMismatch)
                    #expect(error.reason.contains("CN=Another CA"), "\(error)")
                }
            }
        }
    }

    @Test("a CA with the same name but another key: the signature does not verify")
    func sameNameOtherKey() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, _) = try self.makeCA(in: directory)
            let impostor = try OpenSSLTestCA(in: directory.url.appendingPathComponent("impostor"), subject: ca.subject)
            let source = CRLFile(path: ca.path("crl.der"), issuer: try impostor.certificate())
            #expect(throws: OCSPResponderError.crlSignatureInvalid(path: "", reason: "")) {
                try source.parse(try readBytes(ca.path("crl.der")))
            }
            let unchecked = CRLFile(
                path: ca.path("crl.der"), issuer: try impostor.certificate(), verifiesSignature: false)
            #expect(try unchecked.parse(try readBytes(ca.path("crl.der"))).entries.count == 3)
        }
    }

    @Test("a tampered CRL is refused: a flipped signature byte, a flipped byte in a revocation date")
    func tampered() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, _) = try self.makeCA(in: directory)
            let issuer = try ca.certificate()
            let der = try readBytes(ca.path("crl.der"))
            let crl = try CertificateList(derEncoded: der)

            // The last octet of the file is the last octet of the signature.
            var badSignature = der
            badSignature[badSignature.count - 1] ^= 0x01
            // A digit of the first entry's revocation date: still a valid time, but not what was signed.
            var serializer = DER.Serializer()
            try serializer.serialize(crl.revokedCertificates[0])
            let entryBytes = serializer.serializedBytes
            serializer = DER.Serializer()
            try serializer.serialize(crl.revokedCertificates[0].revocationDate)
            let dateBytes = serializer.serializedBytes
            let entryOffset = try #require(der.firstRange(of: entryBytes)).lowerBound
            let dateOffset = try #require(entryBytes.firstRange(of: dateBytes)).lowerBound + entryOffset
            var badDate = der
            // The year's second digit (UTCTime "YYMMDD…" after tag and length).
            badDate[dateOffset + 3] =
                badDate[dateOffset + 3] == UInt8(ascii: "5") ? UInt8(ascii: "4") : UInt8(ascii: "5")
            let tamperedEntry = try CertificateList(derEncoded: badDate).revokedCertificates[0]
            #expect(tamperedEntry.revocationDate != crl.revokedCertificates[0].revocationDate)
            #expect(try CertificateList(derEncoded: badDate).tbsCertList.thisUpdate == crl.tbsCertList.thisUpdate)

            for bytes in [badSignature, badDate] {
                #expect(try CertificateList(derEncoded: bytes).revokedCertificates.count == 3)
                #expect(throws: OCSPResponderError.crlSignatureInvalid(path: "", reason: "")) {
                    try CRLFile(path: "crl.der", issuer: issuer).parse(bytes)
                }
            }
        }
    }

    @Test("bytes that are not a CRL are refused as malformed")
    func notACRL() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, _) = try self.makeCA(in: directory)
            let source = CRLFile(path: "crl", issuer: try ca.certificate())
            for bytes in [Array("hello".utf8), [0x30, 0x03, 0x02, 0x01], try readBytes(ca.path("ca.pem"))] {
                #expect(throws: OCSPResponderError.malformedCRL(path: "", reason: "")) {
                    try source.parse(bytes)
                }
            }
        }
    }

    @Test("a revocation in a replaced CRL is picked up by the next poll")
    func watchedCRL() async throws {
        try await withTemporaryDirectory { directory in
            let (ca, certificates) = try self.makeCA(in: directory)
            let path = directory.path("served.crl")
            try replaceAtomically(try readBytes(ca.path("crl.der")), at: path)
            let changes = ChangeRecorder()
            let watcher = try StatusSourceWatcher(
                source: CRLFile(path: path, issuer: try ca.certificate()),
                configuration: .init(pollInterval: .milliseconds(100), issuerLabel: "crl-test"),
                logger: silentLogger,
                onChange: changes.hook
            )
            let good = try key(certificates, "good")
            #expect(watcher.currentSnapshot.resolve(good, nonIssuedIsRevoked: false) == .good)

            try ca.revoke("good", ["-crl_reason", "superseded"])
            try ca.generateCRL("crl2")
            try await whileRunning(watcher) {
                try replaceAtomically(try readBytes(ca.path("crl2.pem")), at: path)
                let served = await eventually {
                    if case .revoked(let revocation) = watcher.currentSnapshot.resolve(good, nonIssuedIsRevoked: false)
                    {
                        return revocation.reason == .superseded
                    }
                    return false
                }
                #expect(served, "the revocation was not picked up")
                #expect(await eventually { changes.generations == [2] })
                #expect(watcher.currentSnapshot.crl?.crlNumber == [0x10, 0x01])
            }
        }
    }
}
