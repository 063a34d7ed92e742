public import SwiftASN1

extension ASN1ObjectIdentifier {
    /// Hold instruction codes (RFC 3280 §5.3.2, `id-holdinstruction` 1.2.840.10040.2).
    public enum HoldInstruction {
        /// id-holdinstruction-none.
        public static let none: ASN1ObjectIdentifier = [1, 2, 840, 10040, 2, 1]
        /// id-holdinstruction-callissuer.
        public static let callIssuer: ASN1ObjectIdentifier = [1, 2, 840, 10040, 2, 2]
        /// id-holdinstruction-reject.
        public static let reject: ASN1ObjectIdentifier = [1, 2, 840, 10040, 2, 3]
    }
}
