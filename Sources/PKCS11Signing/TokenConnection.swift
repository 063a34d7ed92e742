import CPKCS11
import Signing
import SwiftASN1
import X509

/// A signer's hold on its token: the slot, the session that carries the login, the key and the
/// mechanisms on offer.
///
/// The anchor session stays open for as long as the connection: a login belongs to the token and the
/// application and ends when the application's last session on the token closes (v2.40 §5.6), so
/// without it the pool's sessions would lose the login between two signatures.
struct TokenConnection: Sendable {
    var slot: CK_SLOT_ID
    var token: PKCS11TokenInformation
    var anchor: PKCS11Session
    var key: TokenKey
    var mechanisms: Set<CK_MECHANISM_TYPE>
    /// The token for messages: `the token labelled "TSA" (serial 1234) in /usr/lib/….so`.
    var name: String
}

extension PKCS11Module {
    /// The slot of the token `selector` names: exactly one present token must match.
    ///
    /// A slot whose token cannot be read (SoftHSM2 answers `CKR_GENERAL_ERROR` for a token whose
    /// directory is gone) is skipped.
    func findToken(_ selector: PKCS11TokenSelector) throws -> (slot: CK_SLOT_ID, token: PKCS11TokenInformation) {
        var seen: [PKCS11TokenInformation] = []
        for slot in try self.slotList(tokenPresent: true) {
            guard let token = try? self.tokenInformation(slot) else { continue }
            seen.append(token)
        }
        let matching = seen.filter { selector.matches($0) }
        guard let first = matching.first else {
            let present = seen.filter { $0.flags.contains(.tokenInitialized) }.map {
                "\"\($0.label)\" (serial \($0.serialNumber), slot \($0.slot))"
            }
            throw PKCS11Error(
                code: .tokenNotFound,
                reason: """
                    \(selector) is not present in the PKCS#11 module \(self.path) (tokens present: \
                    \(present.isEmpty ? "none" : present.joined(separator: ", "))); insert or restore the token, \
                    or fix the token setting
                    """
            )
        }
        guard matching.count == 1 else {
            throw PKCS11Error(
                code: .ambiguousObject,
                reason: """
                    \(matching.count) tokens in the PKCS#11 module \(self.path) match \(selector) (slots \
                    \(matching.map { String($0.slot) }.joined(separator: ", "))); select the token by serial number
                    """
            )
        }
        return (CK_SLOT_ID(first.slot), first)
    }

    /// Finds the token, opens the anchor session, logs in when the token is not logged in yet (one
    /// `C_Login`, never repeated on a rejected PIN), and finds the key.
    ///
    /// - Parameters:
    ///   - rescan: When the token is not found, re-initialise the module (unless another caller did since
    ///     this one started) and look again.
    /// - Throws: ``PKCS11Error``; ``Signing/SignerError`` when the PIN source cannot be read.
    func connect(
        token selector: PKCS11TokenSelector,
        key keySelector: PKCS11KeySelector,
        pin: SecretSource,
        rescan: Bool
    ) throws -> TokenConnection {
        let observed = self.generation
        let found: (slot: CK_SLOT_ID, token: PKCS11TokenInformation)
        do {
            found = try self.findToken(selector)
        } catch let error as PKCS11Error where rescan && (error.code == .tokenNotFound || error.isTokenLoss) {
            try self.reinitialize(ifGeneration: observed)
            found = try self.findToken(selector)
        }
        let name = "the token \"\(found.token.label)\" (serial \(found.token.serialNumber)) in \(self.path)"
        let anchor = try self.openSession(found.slot)
        do {
            if !Self.isUserState(try self.sessionState(anchor)) {
                try self.login(anchor, pin: try pin.resolve(), token: name)
            }
            let key = try self.findPrivateKey(anchor, keySelector, token: name)
            guard key.canSign != false else {
                throw PKCS11Error(
                    code: .unsupportedKey,
                    reason: "\(keySelector) on \(name) may not sign (CKA_SIGN is false); generate a signing key"
                )
            }
            let mechanisms = try self.mechanisms(found.slot)
            return TokenConnection(
                slot: found.slot,
                token: found.token,
                anchor: anchor,
                key: key,
                mechanisms: mechanisms,
                name: name
            )
        } catch {
            self.closeSession(anchor)
            throw error
        }
    }

    /// The X.509 certificate on the token with `CKA_ID` `id`: exactly one must be there.
    func certificate(_ session: PKCS11Session, id: [UInt8], token: String) throws -> Certificate {
        guard !id.isEmpty else {
            throw PKCS11Error(
                code: .certificateNotFound,
                reason: """
                    the key on \(token) has no CKA_ID, so no certificate can be matched to it; configure the \
                    certificate file instead
                    """
            )
        }
        let handles = try self.findObjects(
            session,
            matching: [
                .ulong(CKA_CLASS, CKO_CERTIFICATE), .ulong(CKA_CERTIFICATE_TYPE, CKC_X_509), .bytes(CKA_ID, id),
            ],
            limit: 8
        )
        guard let handle = handles.first else {
            throw PKCS11Error(
                code: .certificateNotFound,
                reason: """
                    \(token) holds no X.509 certificate with the key's CKA_ID \(id.hexString); store the \
                    certificate on the token with that id, or configure the certificate file instead
                    """
            )
        }
        guard handles.count == 1 else {
            throw PKCS11Error(
                code: .ambiguousObject,
                reason: """
                    \(token) holds \(handles.count) certificates with CKA_ID \(id.hexString); remove the old ones \
                    or configure the certificate file instead
                    """
            )
        }
        let value = try self.attributeValue(session, of: handle, CKA_VALUE)
        do {
            return try Certificate(derEncoded: value)
        } catch {
            throw PKCS11Error(
                code: .certificateNotFound,
                reason: "the certificate with CKA_ID \(id.hexString) on \(token) does not parse as X.509",
                cause: error
            )
        }
    }
}
