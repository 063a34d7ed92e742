public import Foundation
public import Signing
import SwiftASN1
public import X509

/// The development PKI of the embedded default, generated in Swift.
///
/// ``ensure(stateDirectory:tsuKeyType:now:)`` creates it once in a state folder:
///
/// | file | content | mode |
/// | --- | --- | --- |
/// | `STATE/pki/` | certificates and the OpenSSL index | 0755 |
/// | `root-ca.pem` | self-signed root CA, EC P-384, 20 years | 0644 |
/// | `issuing-ca.pem` | issuing CA by the root, EC P-384, 10 years | 0644 |
/// | `tsa.pem` | TSU certificate by the issuing CA, critical id-kp-timeStamping, 3 years | 0644 |
/// | `ocsp.pem` | delegated OCSP responder, id-pkix-ocsp-nocheck, EC P-256, 1 year | 0644 |
/// | `ee-good.pem`, `ee-revoked.pem` | end entities by the issuing CA, EC P-256, 1 year | 0644 |
/// | `index.txt` | OpenSSL `ca` database of the issuing CA; `ee-revoked` is revoked (keyCompromise) | 0644 |
/// | `STATE/keys/` | private keys | 0700 |
/// | `*.key` | PKCS#8 PEM, one per certificate | 0600 |
///
/// ``load(stateDirectory:)`` reads the certificates back; ``tsaSigner()`` and ``ocspSigner()``
/// make signers from them.
public struct DevelopmentPKI: Sendable {
    /// Where the files of a development PKI live inside a state folder.
    public struct Paths: Sendable, Hashable {
        /// The state folder.
        public let stateDirectory: String
        /// `STATE/pki`, the certificates and the index.
        public let certificateDirectory: String
        /// `STATE/keys`, the private keys.
        public let keyDirectory: String

        /// `STATE/pki/root-ca.pem`.
        public let rootCA: String
        /// `STATE/pki/issuing-ca.pem`.
        public let issuingCA: String
        /// `STATE/pki/tsa.pem`, the TSU certificate.
        public let tsa: String
        /// `STATE/pki/ocsp.pem`, the delegated OCSP responder certificate.
        public let ocsp: String
        /// `STATE/pki/ee-good.pem`.
        public let eeGood: String
        /// `STATE/pki/ee-revoked.pem`.
        public let eeRevoked: String
        /// `STATE/pki/index.txt`, the issuing CA's OpenSSL `ca` database.
        public let index: String

        /// `STATE/keys/root-ca.key`.
        public let rootCAKey: String
        /// `STATE/keys/issuing-ca.key`.
        public let issuingCAKey: String
        /// `STATE/keys/tsa.key`.
        public let tsaKey: String
        /// `STATE/keys/ocsp.key`.
        public let ocspKey: String
        /// `STATE/keys/ee-good.key`.
        public let eeGoodKey: String
        /// `STATE/keys/ee-revoked.key`.
        public let eeRevokedKey: String

        /// The paths inside `stateDirectory`; touches no file.
        public init(stateDirectory: String) {
            var base = stateDirectory
            while base.count > 1, base.hasSuffix("/") {
                base.removeLast()
            }
            let certificates = base + "/pki"
            let keys = base + "/keys"
            self.stateDirectory = stateDirectory
            self.certificateDirectory = certificates
            self.keyDirectory = keys
            self.rootCA = certificates + "/root-ca.pem"
            self.issuingCA = certificates + "/issuing-ca.pem"
            self.tsa = certificates + "/tsa.pem"
            self.ocsp = certificates + "/ocsp.pem"
            self.eeGood = certificates + "/ee-good.pem"
            self.eeRevoked = certificates + "/ee-revoked.pem"
            self.index = certificates + "/index.txt"
            self.rootCAKey = keys + "/root-ca.key"
            self.issuingCAKey = keys + "/issuing-ca.key"
            self.tsaKey = keys + "/tsa.key"
            self.ocspKey = keys + "/ocsp.key"
            self.eeGoodKey = keys + "/ee-good.key"
            self.eeRevokedKey = keys + "/ee-revoked.key"
        }

        /// Every file of the set, the index last.
        var allFiles: [String] {
            self.keyFiles + self.certificateFiles + [self.index]
        }

        var keyFiles: [String] {
            [self.rootCAKey, self.issuingCAKey, self.tsaKey, self.ocspKey, self.eeGoodKey, self.eeRevokedKey]
        }

        var certificateFiles: [String] {
            [self.rootCA, self.issuingCA, self.tsa, self.ocsp, self.eeGood, self.eeRevoked]
        }
    }

    /// Where the files are.
    public let paths: Paths
    /// The self-signed root CA.
    public let rootCA: Certificate
    /// The issuing CA, issued by ``rootCA``.
    public let issuingCA: Certificate
    /// The TSU certificate, issued by ``issuingCA``.
    public let tsa: Certificate
    /// The delegated OCSP responder certificate for ``issuingCA``.
    public let ocsp: Certificate
    /// An end-entity certificate that `index.txt` lists as valid.
    public let eeGood: Certificate
    /// An end-entity certificate that `index.txt` lists as revoked (keyCompromise).
    public let eeRevoked: Certificate

    /// Creates the development PKI in `stateDirectory` once, and reuses it on later calls.
    ///
    /// - When every file exists, nothing is read or written: the result has `created == false`.
    ///   `tsuKeyType` then has no effect; delete the state folder's `pki` and `keys` to change it.
    /// - When no file or only some exist (an interrupted earlier run), the whole set is generated
    ///   anew: leftovers are removed first (the index first), then keys, certificates and lastly
    ///   the index are written, each atomically with its final mode, so a crash never leaves a set
    ///   that looks complete but mixes two generations. Call ``missingFiles(stateDirectory:)``
    ///   beforehand to tell the user which files were missing.
    ///
    /// - Parameters:
    ///   - stateDirectory: The state folder; created (0755) if missing.
    ///   - tsuKeyType: The key type of the TSU certificate.
    ///   - now: The issuing time; certificates are valid from an hour earlier.
    /// - Returns: The paths, and whether the set was generated by this call.
    /// - Throws: ``DevelopmentPKIError``.
    public static func ensure(
        stateDirectory: String,
        tsuKeyType: DevelopmentKeyType = .ecP256,
        now: Date = Date()
    ) throws -> (paths: Paths, created: Bool) {
        let paths = Paths(stateDirectory: stateDirectory)
        if paths.allFiles.allSatisfy(SecureFile.exists) {
            return (paths, false)
        }
        try self.create(paths, tsuKeyType: tsuKeyType, now: now)
        return (paths, true)
    }

    /// The files of the set that do not exist in `stateDirectory`: empty when the set is complete,
    /// every file when there is none, some when an earlier run was interrupted.
    public static func missingFiles(stateDirectory: String) -> [String] {
        Paths(stateDirectory: stateDirectory).allFiles.filter { !SecureFile.exists($0) }
    }

    /// Reads the certificates of the development PKI in `stateDirectory`.
    ///
    /// - Throws: ``DevelopmentPKIError`` with code ``DevelopmentPKIError/ErrorCode/incompleteSet``
    ///   when files are missing, ``DevelopmentPKIError/ErrorCode/cannotReadFile`` when one does not
    ///   read.
    public static func load(stateDirectory: String) throws -> DevelopmentPKI {
        let paths = Paths(stateDirectory: stateDirectory)
        let missing = paths.allFiles.filter { !SecureFile.exists($0) }
        guard missing.isEmpty else {
            throw DevelopmentPKIError.incompleteSet(
                reason: """
                    the development PKI in \(stateDirectory) is incomplete (missing: \
                    \(missing.joined(separator: ", "))); start sigillumd in development mode to create it
                    """
            )
        }
        func certificate(_ path: String) throws -> Certificate {
            do {
                let certificates = try CertificateFileReader.readCertificates(atPath: path)
                guard certificates.count == 1, let certificate = certificates.first else {
                    throw DevelopmentPKIError.cannotReadFile(
                        reason:
                            "\(path) holds \(certificates.count) certificates, expected one; delete the state folder's pki and keys to regenerate"
                    )
                }
                return certificate
            } catch let error as SignerError {
                throw DevelopmentPKIError.cannotReadFile(
                    reason: "cannot read \(path); delete the state folder's pki and keys to regenerate",
                    cause: error
                )
            }
        }
        return DevelopmentPKI(
            paths: paths,
            rootCA: try certificate(paths.rootCA),
            issuingCA: try certificate(paths.issuingCA),
            tsa: try certificate(paths.tsa),
            ocsp: try certificate(paths.ocsp),
            eeGood: try certificate(paths.eeGood),
            eeRevoked: try certificate(paths.eeRevoked)
        )
    }

    /// A signer with the TSU key and certificate; its chain is the issuing CA, then the root.
    ///
    /// Call ``Signing/Signer/verifyKeyMatchesCertificate()`` on it before serving.
    ///
    /// - Throws: ``DevelopmentPKIError`` with code ``DevelopmentPKIError/ErrorCode/cannotReadFile``.
    public func tsaSigner() throws -> SoftwareSigner {
        SoftwareSigner(
            key: try self.readKey(self.paths.tsaKey),
            certificate: self.tsa,
            chain: [self.issuingCA, self.rootCA]
        )
    }

    /// A signer with the OCSP responder key and certificate; its chain is the issuing CA, then
    /// the root.
    ///
    /// - Throws: ``DevelopmentPKIError`` with code ``DevelopmentPKIError/ErrorCode/cannotReadFile``.
    public func ocspSigner() throws -> SoftwareSigner {
        SoftwareSigner(
            key: try self.readKey(self.paths.ocspKey),
            certificate: self.ocsp,
            chain: [self.issuingCA, self.rootCA]
        )
    }

    /// The issuing CA's key, for certificates of keys held elsewhere.
    func issuingCAKey() throws -> SoftwareKey {
        try self.readKey(self.paths.issuingCAKey)
    }

    private func readKey(_ path: String) throws -> SoftwareKey {
        do {
            return try KeyFileReader.readKey(atPath: path)
        } catch {
            throw DevelopmentPKIError.cannotReadFile(
                reason: "cannot read the key \(path); delete the state folder's pki and keys to regenerate",
                cause: error
            )
        }
    }

    private init(
        paths: Paths,
        rootCA: Certificate,
        issuingCA: Certificate,
        tsa: Certificate,
        ocsp: Certificate,
        eeGood: Certificate,
        eeRevoked: Certificate
    ) {
        self.paths = paths
        self.rootCA = rootCA
        self.issuingCA = issuingCA
        self.tsa = tsa
        self.ocsp = ocsp
        self.eeGood = eeGood
        self.eeRevoked = eeRevoked
    }

    private static func create(_ paths: Paths, tsuKeyType: DevelopmentKeyType, now: Date) throws {
        let output: DevelopmentPKIGenerator.Output
        do {
            output = try DevelopmentPKIGenerator(now: now, tsuKeyType: tsuKeyType).generate()
        } catch let error as DevelopmentPKIError {
            throw error
        } catch {
            throw DevelopmentPKIError.generationFailed(
                reason: "cannot generate the development PKI (TSU key type \(tsuKeyType.rawValue))",
                cause: error
            )
        }

        try SecureFile.makeDirectory(paths.stateDirectory, mode: 0o755)
        try SecureFile.makeDirectory(paths.certificateDirectory, mode: 0o755)
        try SecureFile.makeDirectory(paths.keyDirectory, mode: 0o700)

        // Leftovers of an interrupted run go first, the index (written last) before all others.
        for path in [paths.index] + paths.keyFiles + paths.certificateFiles {
            try SecureFile.remove(path)
        }

        let issued: [(DevelopmentPKIGenerator.Issued, certificate: String, key: String)] = [
            (output.rootCA, paths.rootCA, paths.rootCAKey),
            (output.issuingCA, paths.issuingCA, paths.issuingCAKey),
            (output.tsa, paths.tsa, paths.tsaKey),
            (output.ocsp, paths.ocsp, paths.ocspKey),
            (output.eeGood, paths.eeGood, paths.eeGoodKey),
            (output.eeRevoked, paths.eeRevoked, paths.eeRevokedKey),
        ]
        for (item, _, keyPath) in issued {
            try SecureFile.writeAtomically(
                Array(item.key.pkcs8PEMRepresentation.utf8), to: keyPath, mode: 0o600)
        }
        SecureFile.syncDirectory(paths.keyDirectory)
        for (item, certificatePath, _) in issued {
            let pem: String
            do {
                pem = try item.certificate.serializeAsPEM().pemString
            } catch {
                throw DevelopmentPKIError.generationFailed(
                    reason: "cannot encode the certificate for \(certificatePath)",
                    cause: error
                )
            }
            try SecureFile.writeAtomically(Array((pem + "\n").utf8), to: certificatePath, mode: 0o644)
        }
        try SecureFile.writeAtomically(Array(output.index.utf8), to: paths.index, mode: 0o644)
        SecureFile.syncDirectory(paths.certificateDirectory)
    }
}
