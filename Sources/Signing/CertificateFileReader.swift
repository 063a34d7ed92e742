import SwiftASN1
public import X509

/// Loads X.509 certificates from PEM or DER files.
///
/// A PEM file may hold several `CERTIFICATE` blocks (a chain); other blocks (a key, parameters)
/// are skipped. A DER file holds exactly one certificate. Every error names the file.
public enum CertificateFileReader {
    /// Reads the certificates in the file at `path`, in file order.
    ///
    /// - Parameter path: A PEM or DER certificate file.
    /// - Returns: One or more certificates.
    /// - Throws: ``SignerError`` with code ``SignerError/ErrorCode/unreadableFile`` or
    ///   ``SignerError/ErrorCode/notACertificate``.
    public static func readCertificates(atPath path: String) throws -> [Certificate] {
        let bytes = try FileInput.read(path: path, what: "certificate")
        return try self.parseCertificates(bytes, source: "the certificate file \(path)")
    }

    /// Parses certificates from PEM text or DER bytes, in order.
    ///
    /// - Parameters:
    ///   - bytes: PEM text with one or more `CERTIFICATE` blocks, or one DER certificate.
    ///   - source: Where the bytes came from, for error messages, such as
    ///     `the certificate file /etc/tsa.pem`.
    /// - Returns: One or more certificates.
    public static func parseCertificates(_ bytes: [UInt8], source: String = "the certificate data") throws
        -> [Certificate]
    {
        guard FileInput.looksLikePEM(bytes) else {
            do {
                return [try Certificate(derEncoded: bytes)]
            } catch {
                throw SignerError.notACertificate(
                    reason:
                        "\(source) is neither PEM nor a DER X.509 certificate; point the setting at the certificate file",
                    cause: error
                )
            }
        }
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw SignerError.notACertificate(
                reason: "\(source) is damaged PEM (a broken BEGIN/END pair or base64); export the certificate again",
                cause: error
            )
        }
        let blocks = documents.filter { $0.discriminator == Certificate.defaultPEMDiscriminator }
        guard !blocks.isEmpty else {
            let labels = documents.map(\.discriminator).joined(separator: ", ")
            throw SignerError.notACertificate(
                reason: "\(source) holds no CERTIFICATE block (PEM blocks found: \(labels.isEmpty ? "none" : labels))"
            )
        }
        return try blocks.enumerated().map { index, document in
            do {
                return try Certificate(derEncoded: document.derBytes)
            } catch {
                throw SignerError.notACertificate(
                    reason: "certificate \(index + 1) in \(source) does not parse as X.509; export it again",
                    cause: error
                )
            }
        }
    }
}
