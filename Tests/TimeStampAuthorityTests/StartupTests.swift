import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import Testing
import TimeStampAuthority
import X509

@Suite struct StartupTests {
    @Test func certificateWithoutTimeStampingIsRefused() async throws {
        let paths = try PKIFixtures.paths(.ecP256)
        // The OCSP responder certificate has EKU OCSPSigning, not timeStamping.
        let signer = SoftwareSigner(
            key: try KeyFileReader.readKey(atPath: paths.ocspKey),
            certificate: try CertificateFileReader.readCertificates(atPath: paths.ocsp)[0]
        )
        await #expect {
            _ = try await makeTSA(signer: signer)
        } throws: { error in
            (error as? TSAError)?.code == .certificateProfile
        }
    }

    @Test func expiredCertificateIsRefused() async throws {
        let signer = try PKIFixtures.signer(.ecP256)
        let later = Int64(signer.certificate.notValidAfter.timeIntervalSince1970) + 10
        await #expect {
            _ = try await makeTSA(signer: signer, time: (later, 0))
        } throws: { error in
            (error as? TSAError)?.code == .certificateValidity
        }
    }

    @Test func notYetValidCertificateIsRefused() async throws {
        let signer = try PKIFixtures.signer(.ecP256)
        let earlier = Int64(signer.certificate.notValidBefore.timeIntervalSince1970) - 10
        await #expect {
            _ = try await makeTSA(signer: signer, time: (earlier, 0))
        } throws: { error in
            (error as? TSAError)?.code == .certificateValidity
        }
    }

    @Test func keyThatDoesNotMatchIsRefused() async throws {
        let paths = try PKIFixtures.paths(.ecP256)
        let signer = SoftwareSigner(
            key: SoftwareKey(P256.Signing.PrivateKey()),
            certificate: try CertificateFileReader.readCertificates(atPath: paths.tsa)[0]
        )
        await #expect(throws: SignerError.self) {
            _ = try await makeTSA(signer: signer, time: (Int64(Date().timeIntervalSince1970), 0))
        }
    }

    @Test func defaultPolicyMustBeOffered() async throws {
        var configuration = makeConfiguration()
        configuration.defaultPolicy = [1, 2, 3]
        await #expect {
            _ = try await makeTSA(signer: try PKIFixtures.signer(.ecP256), configuration: configuration)
        } throws: { error in
            (error as? TSAError)?.code == .configuration
        }
    }
}
