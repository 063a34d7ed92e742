import CPKCS11
public import Signing
import SwiftASN1
import X509

/// A slot of a module, as `C_GetSlotInfo` describes it (v2.40 §3.2, `CK_SLOT_INFO`).
public struct PKCS11SlotInformation: Sendable, Hashable {
    /// `CK_SLOT_INFO.flags`.
    public struct Flags: OptionSet, Sendable, Hashable {
        public var rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }

        /// `CKF_TOKEN_PRESENT`.
        public static let tokenPresent = Flags(rawValue: CKF_TOKEN_PRESENT)
        /// `CKF_REMOVABLE_DEVICE`.
        public static let removableDevice = Flags(rawValue: CKF_REMOVABLE_DEVICE)
        /// `CKF_HW_SLOT`.
        public static let hardwareSlot = Flags(rawValue: CKF_HW_SLOT)

        /// The names of the flags set, such as `TOKEN_PRESENT`.
        public var names: [String] {
            let known: [(Flags, String)] = [
                (.tokenPresent, "TOKEN_PRESENT"), (.removableDevice, "REMOVABLE_DEVICE"), (.hardwareSlot, "HW_SLOT"),
            ]
            return known.filter { self.contains($0.0) }.map(\.1)
        }
    }

    /// The slot id. It may change between runs; configure tokens by label or serial number.
    public var id: UInt
    public var description: String
    public var manufacturer: String
    public var flags: Flags
}

/// A token, as `C_GetTokenInfo` describes it (v2.40 §3.2, `CK_TOKEN_INFO`), padding removed.
public struct PKCS11TokenInformation: Sendable, Hashable {
    /// `CK_TOKEN_INFO.flags`.
    public struct Flags: OptionSet, Sendable, Hashable {
        public var rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }

        /// `CKF_RNG`.
        public static let rng = Flags(rawValue: CKF_RNG)
        /// `CKF_WRITE_PROTECTED`.
        public static let writeProtected = Flags(rawValue: CKF_WRITE_PROTECTED)
        /// `CKF_LOGIN_REQUIRED`.
        public static let loginRequired = Flags(rawValue: CKF_LOGIN_REQUIRED)
        /// `CKF_USER_PIN_INITIALIZED`.
        public static let userPINInitialized = Flags(rawValue: CKF_USER_PIN_INITIALIZED)
        /// `CKF_PROTECTED_AUTHENTICATION_PATH`: a PIN pad.
        public static let protectedAuthenticationPath = Flags(rawValue: CKF_PROTECTED_AUTHENTICATION_PATH)
        /// `CKF_TOKEN_INITIALIZED`.
        public static let tokenInitialized = Flags(rawValue: CKF_TOKEN_INITIALIZED)
        /// `CKF_USER_PIN_COUNT_LOW`: a wrong user PIN was entered since the last right one.
        public static let userPINCountLow = Flags(rawValue: CKF_USER_PIN_COUNT_LOW)
        /// `CKF_USER_PIN_FINAL_TRY`: one more wrong user PIN locks it.
        public static let userPINFinalTry = Flags(rawValue: CKF_USER_PIN_FINAL_TRY)
        /// `CKF_USER_PIN_LOCKED`.
        public static let userPINLocked = Flags(rawValue: CKF_USER_PIN_LOCKED)
        /// `CKF_USER_PIN_TO_BE_CHANGED`.
        public static let userPINToBeChanged = Flags(rawValue: CKF_USER_PIN_TO_BE_CHANGED)
        /// `CKF_SO_PIN_COUNT_LOW`.
        public static let soPINCountLow = Flags(rawValue: CKF_SO_PIN_COUNT_LOW)
        /// `CKF_SO_PIN_FINAL_TRY`.
        public static let soPINFinalTry = Flags(rawValue: CKF_SO_PIN_FINAL_TRY)
        /// `CKF_SO_PIN_LOCKED`.
        public static let soPINLocked = Flags(rawValue: CKF_SO_PIN_LOCKED)
        /// `CKF_SO_PIN_TO_BE_CHANGED`.
        public static let soPINToBeChanged = Flags(rawValue: CKF_SO_PIN_TO_BE_CHANGED)

        /// The names of the flags set, such as `LOGIN_REQUIRED`.
        public var names: [String] {
            let known: [(Flags, String)] = [
                (.rng, "RNG"), (.writeProtected, "WRITE_PROTECTED"), (.loginRequired, "LOGIN_REQUIRED"),
                (.userPINInitialized, "USER_PIN_INITIALIZED"),
                (.protectedAuthenticationPath, "PROTECTED_AUTHENTICATION_PATH"),
                (.tokenInitialized, "TOKEN_INITIALIZED"), (.userPINCountLow, "USER_PIN_COUNT_LOW"),
                (.userPINFinalTry, "USER_PIN_FINAL_TRY"), (.userPINLocked, "USER_PIN_LOCKED"),
                (.userPINToBeChanged, "USER_PIN_TO_BE_CHANGED"), (.soPINCountLow, "SO_PIN_COUNT_LOW"),
                (.soPINFinalTry, "SO_PIN_FINAL_TRY"), (.soPINLocked, "SO_PIN_LOCKED"),
                (.soPINToBeChanged, "SO_PIN_TO_BE_CHANGED"),
            ]
            return known.filter { self.contains($0.0) }.map(\.1)
        }
    }

    /// The slot the token was in when read.
    public var slot: UInt
    public var label: String
    public var manufacturer: String
    public var model: String
    public var serialNumber: String
    public var flags: Flags
}

/// An object on a token, as `sigillum keys list` shows it.
public struct PKCS11ObjectSummary: Sendable, Hashable {
    /// `private key`, `public key`, `certificate`, `secret key`, `data` or `class 0x…`.
    public var objectClass: String
    /// For keys: `EC P-256`, `RSA 3072`, `Ed25519`, …
    public var keyAlgorithm: String?
    /// `CKA_LABEL`.
    public var label: String
    /// `CKA_ID`.
    public var id: [UInt8]
    /// `CKA_SENSITIVE`, for private and secret keys.
    public var sensitive: Bool?
    /// `CKA_EXTRACTABLE`, for private and secret keys.
    public var extractable: Bool?
    /// `CKA_NEVER_EXTRACTABLE`: the key never left the token in clear since it was made.
    public var neverExtractable: Bool?
    /// `CKA_ALWAYS_SENSITIVE`.
    public var alwaysSensitive: Bool?
    /// `CKA_SIGN`, for private keys.
    public var canSign: Bool?
    /// For certificates, the subject; `nil` when the value does not parse.
    public var subject: String?
}

/// A slot with its token and the objects visible on it.
public struct PKCS11SlotSummary: Sendable, Hashable {
    public var slot: PKCS11SlotInformation
    /// The token, when one is present and readable.
    public var token: PKCS11TokenInformation?
    /// The objects visible in the session: only public ones unless logged in.
    public var objects: [PKCS11ObjectSummary]
    /// Whether the objects were listed logged in (so private objects show).
    public var loggedIn: Bool
    /// Why the token or its objects could not be read, if that happened.
    public var problem: String?
}

extension PKCS11TokenAdministration {
    /// Lists the module's slots, their tokens and the objects on them.
    ///
    /// Blocks the calling thread. Without a PIN only public objects show (certificates, public keys
    /// and private keys with `CKA_PRIVATE` false); with one, the private keys too.
    ///
    /// - Parameters:
    ///   - token: Only this token's slot, or every slot when `nil`.
    ///   - pin: Logs in to read private objects (only with `token`).
    /// - Throws: ``PKCS11Error`` when the module cannot list slots, `token` is absent or the PIN is rejected.
    public static func inventory(
        module: PKCS11Module,
        token: PKCS11TokenSelector? = nil,
        pin: SecretSource? = nil
    ) throws -> [PKCS11SlotSummary] {
        var selectedSlot: CK_SLOT_ID?
        if let token {
            selectedSlot = try module.findToken(token).slot
        }
        var summaries: [PKCS11SlotSummary] = []
        for slot in try module.slotList(tokenPresent: false) where selectedSlot == nil || selectedSlot == slot {
            let slotInformation = try module.slotInformation(slot)
            var summary = PKCS11SlotSummary(
                slot: slotInformation,
                token: nil,
                objects: [],
                loggedIn: false,
                problem: nil
            )
            if slotInformation.flags.contains(.tokenPresent) {
                do {
                    let tokenInformation = try module.tokenInformation(slot)
                    summary.token = tokenInformation
                    if tokenInformation.flags.contains(.tokenInitialized) {
                        let name = "the token \"\(tokenInformation.label)\" in slot \(slot)"
                        (summary.objects, summary.loggedIn) = try self.objects(
                            module: module,
                            slot: slot,
                            pin: selectedSlot == nil ? nil : pin,
                            name: name
                        )
                    }
                } catch let error as PKCS11Error where error.code == .pinRejected {
                    throw error
                } catch let error as PKCS11Error {
                    summary.problem = error.reason
                }
            }
            summaries.append(summary)
        }
        return summaries
    }

    private static func objects(
        module: PKCS11Module,
        slot: CK_SLOT_ID,
        pin: SecretSource?,
        name: String
    ) throws -> ([PKCS11ObjectSummary], Bool) {
        let session = try module.openSession(slot)
        defer { module.closeSession(session) }
        var loggedIn = PKCS11Module.isUserState(try module.sessionState(session))
        if let pin, !loggedIn {
            try module.login(session, pin: try pin.resolve(), token: name)
            loggedIn = true
        }
        var summaries: [PKCS11ObjectSummary] = []
        for handle in try module.findObjects(session, matching: [], limit: 1000) {
            let values = try module.attributes(
                session,
                of: handle,
                [
                    CKA_CLASS, CKA_KEY_TYPE, CKA_LABEL, CKA_ID, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE,
                    CKA_ALWAYS_SENSITIVE, CKA_SIGN, CKA_EC_PARAMS, CKA_MODULUS,
                ]
            )
            let objectClass = values[CKA_CLASS]?.ckULong
            var summary = PKCS11ObjectSummary(
                objectClass: objectClass.map(Self.className(of:)) ?? "unknown class",
                keyAlgorithm: values[CKA_KEY_TYPE]?.ckULong.map {
                    TokenKeyAlgorithm.from(
                        keyType: $0, ecParameters: values[CKA_EC_PARAMS], modulus: values[CKA_MODULUS]
                    )
                    .description
                },
                label: values[CKA_LABEL].map { String(decoding: $0, as: UTF8.self) } ?? "",
                id: values[CKA_ID] ?? [],
                sensitive: values[CKA_SENSITIVE]?.ckBool,
                extractable: values[CKA_EXTRACTABLE]?.ckBool,
                neverExtractable: values[CKA_NEVER_EXTRACTABLE]?.ckBool,
                alwaysSensitive: values[CKA_ALWAYS_SENSITIVE]?.ckBool,
                canSign: objectClass == CKO_PRIVATE_KEY ? values[CKA_SIGN]?.ckBool : nil,
                subject: nil
            )
            if objectClass == CKO_CERTIFICATE,
                let value = try module.attributes(session, of: handle, [CKA_VALUE])[CKA_VALUE]
            {
                summary.subject = (try? Certificate(derEncoded: value)).map { "\($0.subject)" }
            }
            summaries.append(summary)
        }
        return (summaries, loggedIn)
    }

    private static func className(of objectClass: CK_OBJECT_CLASS) -> String {
        switch objectClass {
        case CKO_PRIVATE_KEY: "private key"
        case CKO_PUBLIC_KEY: "public key"
        case CKO_CERTIFICATE: "certificate"
        case CKO_SECRET_KEY: "secret key"
        case CKO_DATA: "data"
        default: "class 0x\(String(objectClass, radix: 16))"
        }
    }
}
