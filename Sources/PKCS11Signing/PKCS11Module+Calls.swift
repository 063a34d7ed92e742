import CPKCS11

/// Typed wrappers of the module functions Sigillum uses (PKCS#11 v2.40 §5). Each blocks its caller.
extension PKCS11Module {
    // MARK: Slots and tokens (v2.40 §5.5)

    /// `C_GetSlotList`: the slots, or only those holding a token.
    func slotList(tokenPresent: Bool) throws -> [CK_SLOT_ID] {
        let function = self.functions.table.C_GetSlotList
        // The list may grow between the two calls (a reader plugged in): ask again on CKR_BUFFER_TOO_SMALL.
        for _ in 0..<4 {
            var count: CK_ULONG = 0
            try self.call("C_GetSlotList", function, context: "listing the slots") {
                $0(tokenPresent ? 1 : 0, nil, &count)
            }
            var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
            let returnValue = try self.call(
                "C_GetSlotList",
                function,
                context: "listing the slots",
                accepting: [CKR_BUFFER_TOO_SMALL]
            ) { function in
                slots.withUnsafeMutableBufferPointer { function(tokenPresent ? 1 : 0, $0.baseAddress, &count) }
            }
            if returnValue == CKR_OK {
                return Array(slots.prefix(Int(count)))
            }
        }
        throw PKCS11Error(
            code: .operationFailed,
            reason: "the slot list of the PKCS#11 module \(self.path) kept changing while being read",
            returnValue: CKR_BUFFER_TOO_SMALL,
            function: "C_GetSlotList"
        )
    }

    /// `C_GetSlotInfo`.
    func slotInformation(_ slot: CK_SLOT_ID) throws -> PKCS11SlotInformation {
        var info = CK_SLOT_INFO()
        try self.call("C_GetSlotInfo", self.functions.table.C_GetSlotInfo, context: "reading slot \(slot)") {
            $0(slot, &info)
        }
        return PKCS11SlotInformation(
            id: UInt(slot),
            description: paddedText(info.slotDescription),
            manufacturer: paddedText(info.manufacturerID),
            flags: PKCS11SlotInformation.Flags(rawValue: UInt(info.flags))
        )
    }

    /// `C_GetTokenInfo`.
    func tokenInformation(_ slot: CK_SLOT_ID) throws -> PKCS11TokenInformation {
        var info = CK_TOKEN_INFO()
        try self.call(
            "C_GetTokenInfo",
            self.functions.table.C_GetTokenInfo,
            context: "reading the token in slot \(slot)"
        ) {
            $0(slot, &info)
        }
        return PKCS11TokenInformation(
            slot: UInt(slot),
            label: paddedText(info.label),
            manufacturer: paddedText(info.manufacturerID),
            model: paddedText(info.model),
            serialNumber: paddedText(info.serialNumber),
            flags: PKCS11TokenInformation.Flags(rawValue: UInt(info.flags))
        )
    }

    /// `C_GetMechanismList`: the mechanisms the token in `slot` supports.
    func mechanisms(_ slot: CK_SLOT_ID) throws -> Set<CK_MECHANISM_TYPE> {
        let function = self.functions.table.C_GetMechanismList
        var count: CK_ULONG = 0
        try self.call("C_GetMechanismList", function, context: "listing the mechanisms of slot \(slot)") {
            $0(slot, nil, &count)
        }
        var list = [CK_MECHANISM_TYPE](repeating: 0, count: Int(count))
        try self.call("C_GetMechanismList", function, context: "listing the mechanisms of slot \(slot)") {
            function in
            list.withUnsafeMutableBufferPointer { function(slot, $0.baseAddress, &count) }
        }
        return Set(list.prefix(Int(count)))
    }

    // MARK: Sessions (v2.40 §5.6)

    /// `C_OpenSession`: a serial session, read-only unless `readWrite`.
    func openSession(_ slot: CK_SLOT_ID, readWrite: Bool = false) throws -> PKCS11Session {
        let generation = self.generation
        var handle: CK_SESSION_HANDLE = 0
        let flags = CKF_SERIAL_SESSION | (readWrite ? CKF_RW_SESSION : 0)
        try self.call(
            "C_OpenSession",
            self.functions.table.C_OpenSession,
            session: PKCS11Session(handle: 0, slot: slot, generation: generation),
            context: "opening a session on slot \(slot)"
        ) {
            $0(slot, flags, nil, nil, &handle)
        }
        return PKCS11Session(handle: handle, slot: slot, generation: generation)
    }

    /// `C_CloseSession`, ignoring failures; a session of an older generation is left alone (it died with
    /// the re-initialisation, and its handle number may be someone else's now).
    func closeSession(_ session: PKCS11Session) {
        _ = try? self.call(
            "C_CloseSession",
            self.functions.table.C_CloseSession,
            session: session,
            context: "closing a session",
            accepting: [CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT]
        ) {
            $0(session.handle)
        }
    }

    /// `C_GetSessionInfo`: the session's state (`CKS_…`).
    func sessionState(_ session: PKCS11Session) throws -> CK_STATE {
        var info = CK_SESSION_INFO()
        try self.call(
            "C_GetSessionInfo",
            self.functions.table.C_GetSessionInfo,
            session: session,
            context: "reading the session state"
        ) {
            $0(session.handle, &info)
        }
        return info.state
    }

    /// Whether `state` is a state in which the normal user is logged in.
    static func isUserState(_ state: CK_STATE) -> Bool {
        state == CKS_RO_USER_FUNCTIONS || state == CKS_RW_USER_FUNCTIONS
    }

    /// `C_Login` as the normal user (`CKU_USER`), once.
    ///
    /// `CKR_USER_ALREADY_LOGGED_IN` counts as success: logins are per token and application (v2.40
    /// §5.6), so another signer on the same token may have logged in. A rejected PIN is
    /// ``PKCS11Error/ErrorCode/pinRejected`` and is never retried here.
    func login(_ session: PKCS11Session, pin: [UInt8], token: String) throws {
        var pin = pin
        defer {
            for index in pin.indices { pin[index] = 0 }
        }
        do {
            try self.call(
                "C_Login",
                self.functions.table.C_Login,
                session: session,
                context: "logging in to \(token)",
                accepting: [CKR_USER_ALREADY_LOGGED_IN]
            ) { login in
                pin.withUnsafeMutableBufferPointer {
                    login(session.handle, CKU_USER, $0.baseAddress, CK_ULONG($0.count))
                }
            }
        } catch let error as PKCS11Error where error.code == .pinRejected {
            let name = error.returnValueName ?? "an error"
            let detail: String
            switch error.returnValue {
            case CKR_PIN_LOCKED:
                detail = "the user PIN is locked; unblock it with the security officer PIN (C_InitPIN)"
            case CKR_PIN_EXPIRED:
                detail = "the PIN has expired; set a new one (C_SetPIN) and update the PIN source"
            case CKR_USER_PIN_NOT_INITIALIZED:
                detail = "the token has no user PIN yet; initialise one with the security officer PIN"
            default:
                detail = "check the PIN source; each wrong attempt counts towards locking the token"
            }
            throw error.with(
                code: .pinRejected,
                reason: "\(token) rejected the PIN (\(name)): \(detail); Sigillum does not retry a rejected PIN"
            )
        }
    }

    // MARK: Objects (v2.40 §5.7)

    /// `C_FindObjectsInit`, `C_FindObjects`, `C_FindObjectsFinal`: the handles of the objects matching
    /// `template`, at most `limit`.
    func findObjects(
        _ session: PKCS11Session,
        matching template: [PKCS11Attribute],
        limit: Int = 256
    ) throws -> [CK_OBJECT_HANDLE] {
        let table = self.functions.table
        guard let findInit = table.C_FindObjectsInit, let find = table.C_FindObjects,
            let findFinal = table.C_FindObjectsFinal
        else {
            throw PKCS11Error(
                code: .operationFailed,
                reason: "the PKCS#11 module \(self.path) lacks the C_FindObjects functions"
            )
        }
        return try self.withModule(session: session, function: "C_FindObjects") { () throws(PKCS11Error) in
            let initValue = withTemplate(template) { findInit(session.handle, $0, $1) }
            guard initValue == CKR_OK else {
                throw PKCS11Error.call("C_FindObjectsInit", returnValue: initValue, context: "searching the token")
            }
            defer { _ = findFinal(session.handle) }
            var found: [CK_OBJECT_HANDLE] = []
            var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 32)
            while found.count < limit {
                var count: CK_ULONG = 0
                let value = batch.withUnsafeMutableBufferPointer {
                    find(session.handle, $0.baseAddress, CK_ULONG($0.count), &count)
                }
                guard value == CKR_OK else {
                    throw PKCS11Error.call("C_FindObjects", returnValue: value, context: "searching the token")
                }
                guard count > 0 else { break }
                found.append(contentsOf: batch.prefix(Int(count)))
            }
            return Array(found.prefix(limit))
        }
    }

    /// `C_GetAttributeValue` for several attributes, leniently: those the object lacks or keeps secret
    /// (`CKR_ATTRIBUTE_TYPE_INVALID`, `CKR_ATTRIBUTE_SENSITIVE`) are absent from the result.
    func attributes(
        _ session: PKCS11Session,
        of object: CK_OBJECT_HANDLE,
        _ types: [CK_ATTRIBUTE_TYPE]
    ) throws -> [CK_ATTRIBUTE_TYPE: [UInt8]] {
        let function = self.functions.table.C_GetAttributeValue
        let tolerated: Set<CK_RV> = [CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID]
        var template = types.map { CK_ATTRIBUTE(type: $0, pValue: nil, ulValueLen: 0) }
        try self.call(
            "C_GetAttributeValue",
            function,
            session: session,
            context: "reading object attributes",
            accepting: tolerated
        ) { function in
            template.withUnsafeMutableBufferPointer {
                function(session.handle, object, $0.baseAddress, CK_ULONG($0.count))
            }
        }
        let lengths = template.map { $0.ulValueLen == unavailableInformation ? nil : Int($0.ulValueLen) }
        let total = lengths.reduce(0) { $0 + ($1 ?? 0) }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
        defer { storage.deallocate() }
        var offset = 0
        for index in template.indices {
            guard let length = lengths[index] else { continue }
            template[index].pValue = storage.baseAddress.map { $0 + offset }
            template[index].ulValueLen = CK_ULONG(length)
            offset += length
        }
        // Attributes with no value stay in the template with a NULL pointer, which asks only for the length again.
        try self.call(
            "C_GetAttributeValue",
            function,
            session: session,
            context: "reading object attributes",
            accepting: tolerated
        ) { function in
            template.withUnsafeMutableBufferPointer {
                function(session.handle, object, $0.baseAddress, CK_ULONG($0.count))
            }
        }
        var result: [CK_ATTRIBUTE_TYPE: [UInt8]] = [:]
        for attribute in template {
            guard let pointer = attribute.pValue, attribute.ulValueLen != unavailableInformation else { continue }
            result[attribute.type] = Array(
                UnsafeRawBufferPointer(start: pointer, count: Int(attribute.ulValueLen))
            )
        }
        return result
    }

    /// `C_GetAttributeValue` for one attribute, strictly: any refusal, `CKR_ATTRIBUTE_SENSITIVE`
    /// included, is thrown with its return value.
    func attributeValue(
        _ session: PKCS11Session,
        of object: CK_OBJECT_HANDLE,
        _ type: CK_ATTRIBUTE_TYPE
    ) throws -> [UInt8] {
        let function = self.functions.table.C_GetAttributeValue
        var attribute = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        try self.call("C_GetAttributeValue", function, session: session, context: "reading an object attribute") {
            $0(session.handle, object, &attribute, 1)
        }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        try self.call("C_GetAttributeValue", function, session: session, context: "reading an object attribute") {
            function in
            value.withUnsafeMutableBytes { buffer in
                attribute.pValue = buffer.baseAddress
                return function(session.handle, object, &attribute, 1)
            }
        }
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// `C_SetAttributeValue`.
    func setAttributes(_ session: PKCS11Session, of object: CK_OBJECT_HANDLE, _ template: [PKCS11Attribute]) throws {
        try self.call(
            "C_SetAttributeValue",
            self.functions.table.C_SetAttributeValue,
            session: session,
            context: "changing object attributes"
        ) { function in
            withTemplate(template) { function(session.handle, object, $0, $1) }
        }
    }

    /// `C_CreateObject`.
    func createObject(_ session: PKCS11Session, _ template: [PKCS11Attribute]) throws -> CK_OBJECT_HANDLE {
        var handle: CK_OBJECT_HANDLE = 0
        try self.call(
            "C_CreateObject",
            self.functions.table.C_CreateObject,
            session: session,
            context: "creating an object"
        ) { function in
            withTemplate(template) { function(session.handle, $0, $1, &handle) }
        }
        return handle
    }

    /// `C_DestroyObject`.
    func destroyObject(_ session: PKCS11Session, _ object: CK_OBJECT_HANDLE) throws {
        try self.call(
            "C_DestroyObject",
            self.functions.table.C_DestroyObject,
            session: session,
            context: "destroying an object"
        ) {
            $0(session.handle, object)
        }
    }

    // MARK: Keys and signatures (v2.40 §5.11, §5.14)

    /// `C_GenerateKeyPair`: the handles of the new public and private key.
    func generateKeyPair(
        _ session: PKCS11Session,
        mechanism: CK_MECHANISM_TYPE,
        publicTemplate: [PKCS11Attribute],
        privateTemplate: [PKCS11Attribute]
    ) throws -> (publicKey: CK_OBJECT_HANDLE, privateKey: CK_OBJECT_HANDLE) {
        var publicKey: CK_OBJECT_HANDLE = 0
        var privateKey: CK_OBJECT_HANDLE = 0
        var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        try self.call(
            "C_GenerateKeyPair",
            self.functions.table.C_GenerateKeyPair,
            session: session,
            context: "generating a key pair"
        ) { function in
            withTemplate(publicTemplate) { publicPointer, publicCount in
                withTemplate(privateTemplate) { privatePointer, privateCount in
                    function(
                        session.handle,
                        &mechanismValue,
                        publicPointer,
                        publicCount,
                        privatePointer,
                        privateCount,
                        &publicKey,
                        &privateKey
                    )
                }
            }
        }
        return (publicKey, privateKey)
    }

    /// `C_SignInit` then `C_Sign` on `data` in one go, under one read lock.
    ///
    /// - Parameters:
    ///   - expectedLength: The signature's length when known (the modulus length, twice the field
    ///     length); a module that wants more answers `CKR_BUFFER_TOO_SMALL` with the length, and the
    ///     signature is asked for again (v2.40 §5.2, the operation stays active).
    ///   - contextPIN: For a key with `CKA_ALWAYS_AUTHENTICATE`, the user PIN, given with
    ///     `C_Login(CKU_CONTEXT_SPECIFIC)` between `C_SignInit` and `C_Sign` as v2.40 §5.6 requires for every
    ///     signature. A refused login ends the operation (a `C_Sign` that fails terminates it) and throws.
    func sign(
        _ session: PKCS11Session,
        key: CK_OBJECT_HANDLE,
        mechanism: PKCS11Mechanism,
        data: [UInt8],
        expectedLength: Int,
        contextPIN: [UInt8]? = nil
    ) throws -> [UInt8] {
        let table = self.functions.table
        guard let signInit = table.C_SignInit, let sign = table.C_Sign else {
            throw PKCS11Error(code: .operationFailed, reason: "the PKCS#11 module \(self.path) lacks C_SignInit/C_Sign")
        }
        let login = table.C_Login
        return try self.withModule(session: session, function: "C_Sign") { () throws(PKCS11Error) in
            let initValue = mechanism.withMechanism { signInit(session.handle, $0, key) }
            guard initValue == CKR_OK else {
                throw PKCS11Error.call(
                    "C_SignInit", returnValue: initValue, context: "starting a \(mechanism) signature")
            }
            var input = data
            var output = [UInt8](repeating: 0, count: max(expectedLength, 1))
            var length = CK_ULONG(output.count)
            if var pin = contextPIN {
                defer { pin.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
                let loginValue =
                    login.map { login in
                        pin.withUnsafeMutableBufferPointer {
                            login(session.handle, CKU_CONTEXT_SPECIFIC, $0.baseAddress, CK_ULONG($0.count))
                        }
                    } ?? CKR_FUNCTION_NOT_SUPPORTED
                guard loginValue == CKR_OK else {
                    // Not logged in for this operation: the C_Sign fails, and that ends the operation.
                    _ = Self.callSign(sign, session.handle, &input, &output, &length)
                    throw PKCS11Error.call(
                        "C_Login", returnValue: loginValue,
                        context: "giving the PIN for one signature (the key has CKA_ALWAYS_AUTHENTICATE)")
                }
            }
            var value = Self.callSign(sign, session.handle, &input, &output, &length)
            if value == CKR_BUFFER_TOO_SMALL, length > CK_ULONG(output.count), length <= 1 << 16 {
                output = [UInt8](repeating: 0, count: Int(length))
                value = Self.callSign(sign, session.handle, &input, &output, &length)
            }
            guard value == CKR_OK else {
                throw PKCS11Error.call("C_Sign", returnValue: value, context: "making a \(mechanism) signature")
            }
            return Array(output.prefix(Int(length)))
        }
    }

    private static func callSign(
        _ sign: CK_C_Sign,
        _ session: CK_SESSION_HANDLE,
        _ input: inout [UInt8],
        _ output: inout [UInt8],
        _ length: inout CK_ULONG
    ) -> CK_RV {
        input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                sign(session, inputBuffer.baseAddress, CK_ULONG(inputBuffer.count), outputBuffer.baseAddress, &length)
            }
        }
    }
}
