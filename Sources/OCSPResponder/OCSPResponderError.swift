/// An error thrown by the ``OCSPResponder`` module.
///
/// Each error carries a stable ``code`` for programs, a ``reason`` that says what went wrong in plain words, a
/// ``remedy`` that says what an operator can do about it, the ``path`` and ``lineNumber`` of the status source
/// when one is concerned, an optional underlying ``cause`` and the source location that raised it.
///
/// Equality and hashing consider only the ``code``, so tests and callers can match an error by its code alone.
public struct OCSPResponderError: Error, Hashable, CustomStringConvertible {
    private let backing: Backing

    /// The kind of error.
    public var code: ErrorCode { self.backing.code }

    /// What went wrong, in plain words.
    public var reason: String { self.backing.reason }

    /// What an operator can do about it.
    public var remedy: String { self.backing.remedy }

    /// The status source file concerned, when there is one.
    public var path: String? { self.backing.path }

    /// The 1-based line of the status source that is at fault, for line-oriented sources (`index.txt`).
    public var lineNumber: Int? { self.backing.lineNumber }

    /// The underlying error, when another library (SwiftASN1, the file system) reported it.
    public var cause: (any Error & Sendable)? { self.backing.cause }

    public var description: String {
        var text = "OCSPResponderError.\(self.code): \(self.reason)"
        if !self.remedy.isEmpty {
            text += " Remedy: \(self.remedy)"
        }
        if let cause = self.cause {
            text += " (cause: \(cause))"
        }
        text += " [\(self.backing.file):\(self.backing.line)]"
        return text
    }

    private init(
        code: ErrorCode,
        reason: String,
        remedy: String,
        path: String?,
        lineNumber: Int?,
        cause: (any Error & Sendable)?,
        file: String,
        line: UInt
    ) {
        self.backing = Backing(
            code: code,
            reason: reason,
            remedy: remedy,
            path: path,
            lineNumber: lineNumber,
            cause: cause,
            file: file,
            line: line
        )
    }

    public static func == (lhs: OCSPResponderError, rhs: OCSPResponderError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

// MARK: - Factories

extension OCSPResponderError {
    /// A status source file does not exist or cannot be read.
    @inline(never)
    static func sourceUnavailable(
        path: String,
        reason: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .sourceUnavailable,
            reason: "cannot read the status source \(path): \(reason)",
            remedy: "Check the configured path and that the user running Sigillum may read the file.",
            path: path,
            lineNumber: nil,
            cause: cause,
            file: file,
            line: line
        )
    }

    /// A line of an OpenSSL `ca` database is malformed; the whole file is refused.
    @inline(never)
    static func malformedIndex(
        path: String,
        lineNumber: Int,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .malformedIndex,
            reason: "\(path), line \(lineNumber): \(reason)",
            remedy: """
                Correct the line (six tab-separated fields: V/R/E, expiry, revocation[,reason], hex serial, \
                file name, subject); until then the previously loaded status stays in force.
                """,
            path: path,
            lineNumber: lineNumber,
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A CRL file does not decode as a DER or PEM `CertificateList`.
    @inline(never)
    static func malformedCRL(
        path: String,
        reason: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .malformedCRL,
            reason: "the CRL \(path) cannot be read: \(reason)",
            remedy: "Point the source at a DER or PEM (X509 CRL) file as `openssl ca -gencrl` writes it.",
            path: path,
            lineNumber: nil,
            cause: cause,
            file: file,
            line: line
        )
    }

    /// A CRL was issued by another CA than the one the source is configured for.
    @inline(never)
    static func crlIssuerMismatch(
        path: String,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .crlIssuerMismatch,
            reason: "the CRL \(path) does not belong to the configured issuer: \(reason)",
            remedy:
                "Configure each issuer with its own CRL; the issuer certificate's subject must equal the CRL's issuer.",
            path: path,
            lineNumber: nil,
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A CRL's signature does not verify with the issuer's public key.
    @inline(never)
    static func crlSignatureInvalid(
        path: String,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .crlSignatureInvalid,
            reason: "the CRL \(path) is refused: \(reason)",
            remedy: "Replace the file with a CRL signed by the configured issuer's key; it may have been altered.",
            path: path,
            lineNumber: nil,
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A CRL uses a feature this responder does not support (delta CRLs, indirect CRLs, an unknown signature
    /// algorithm).
    @inline(never)
    static func unsupportedCRL(
        path: String,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .unsupportedCRL,
            reason: "the CRL \(path) cannot be used: \(reason)",
            remedy: "Publish a complete, direct CRL signed with ECDSA, RSA PKCS#1 v1.5 or Ed25519.",
            path: path,
            lineNumber: nil,
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A responder certificate that may not sign for its issuer (RFC 6960 §4.2.2.2).
    @inline(never)
    static func unauthorizedResponder(
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .unauthorizedResponder,
            reason: reason,
            remedy: "Sign with the CA's own key, or with a responder certificate the CA issued directly with "
                + "EKU id-kp-OCSPSigning and the id-pkix-ocsp-nocheck extension.",
            path: nil,
            lineNumber: nil,
            cause: nil,
            file: file,
            line: line
        )
    }

    /// A value handed to the module cannot be used.
    @inline(never)
    static func invalidConfiguration(
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> OCSPResponderError {
        OCSPResponderError(
            code: .invalidConfiguration,
            reason: reason,
            remedy: "Correct the OCSP section of the configuration.",
            path: nil,
            lineNumber: nil,
            cause: nil,
            file: file,
            line: line
        )
    }
}

// MARK: - Codes

extension OCSPResponderError {
    /// The kind of an ``OCSPResponderError``.
    ///
    /// New codes may be added in later versions; switch over them with a `default` branch.
    public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum BackingCode: Hashable, Sendable {
            case sourceUnavailable
            case malformedIndex
            case malformedCRL
            case crlIssuerMismatch
            case crlSignatureInvalid
            case unsupportedCRL
            case invalidConfiguration
            case unauthorizedResponder
        }

        fileprivate var backingCode: BackingCode

        fileprivate init(_ backingCode: BackingCode) {
            self.backingCode = backingCode
        }

        /// A status source file is missing or unreadable.
        public static let sourceUnavailable = ErrorCode(.sourceUnavailable)

        /// A line of an OpenSSL `index.txt` is malformed (see ``OCSPResponderError/lineNumber``).
        public static let malformedIndex = ErrorCode(.malformedIndex)

        /// A CRL file does not decode.
        public static let malformedCRL = ErrorCode(.malformedCRL)

        /// A CRL's issuer is not the configured issuer certificate's subject.
        public static let crlIssuerMismatch = ErrorCode(.crlIssuerMismatch)

        /// A CRL's signature does not verify with the issuer's key.
        public static let crlSignatureInvalid = ErrorCode(.crlSignatureInvalid)

        /// A CRL uses a feature the responder does not support.
        public static let unsupportedCRL = ErrorCode(.unsupportedCRL)

        /// A value handed to the module cannot be used.
        public static let invalidConfiguration = ErrorCode(.invalidConfiguration)
        /// The responder certificate is not a valid delegate of its issuer.
        public static let unauthorizedResponder = ErrorCode(.unauthorizedResponder)

        public var description: String {
            String(describing: self.backingCode)
        }
    }
}

// MARK: - Backing

extension OCSPResponderError {
    private final class Backing: Sendable {
        let code: ErrorCode
        let reason: String
        let remedy: String
        let path: String?
        let lineNumber: Int?
        let cause: (any Error & Sendable)?
        let file: String
        let line: UInt

        init(
            code: ErrorCode,
            reason: String,
            remedy: String,
            path: String?,
            lineNumber: Int?,
            cause: (any Error & Sendable)?,
            file: String,
            line: UInt
        ) {
            self.code = code
            self.reason = reason
            self.remedy = remedy
            self.path = path
            self.lineNumber = lineNumber
            self.cause = cause
            self.file = file
            self.line = line
        }
    }
}
