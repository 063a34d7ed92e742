package import CPKCS11
import Synchronization

/// A PKCS#11 module — a vendor's shared library, SoftHSM2, OpenSC — loaded into the process and
/// initialised.
///
/// Loading `dlopen`s the library, takes its function table from `C_GetFunctionList` and calls
/// `C_Initialize` with `CKF_OS_LOCKING_OK` (v2.40 §5.4): the module may be called from several
/// threads at once and uses the operating system's locks.
///
/// A module is initialised once per process: create one `PKCS11Module` per library path and share
/// it between the signers whose keys it holds (the time-stamp unit, each OCSP issuer). A second
/// instance for the same library fails with ``PKCS11Error/ErrorCode/moduleUnavailable``.
///
/// Every call into the module blocks the calling thread; ``PKCS11Signer`` makes them on its own
/// threads. The administrative functions (``PKCS11TokenAdministration``) block their caller.
public final class PKCS11Module: Sendable {
    /// The library path the module was loaded from.
    public let path: String

    /// What `C_GetInfo` says about the library.
    public let information: PKCS11ModuleInformation

    let functions: FunctionTable
    private let library: LibraryHandle
    private let lock = ReadWriteLock()
    private let state = Mutex(State())

    private struct State {
        /// Bumped by each re-initialisation: sessions and object handles of an older generation are dead.
        var generation: UInt64 = 0
        var initialized = false
        var finalized = false
    }

    /// Loads the module at `path` and initialises it.
    ///
    /// - Parameter path: The shared library, such as `/usr/lib/softhsm/libsofthsm2.so`.
    /// - Throws: ``PKCS11Error`` with code ``PKCS11Error/ErrorCode/moduleUnavailable`` when the file
    ///   does not load, is not a PKCS#11 module, is already initialised in this process or refuses
    ///   `C_Initialize`.
    public convenience init(path: String) throws {
        try self.init(path: path, interposing: nil)
    }

    /// Loads the module at `path`, lets `interpose` replace entries of its function table (a test hook:
    /// a counting `C_Login`), and initialises it.
    package init(path: String, interposing interpose: ((inout CK_FUNCTION_LIST) -> Void)?) throws {
        self.path = path
        var handle: UnsafeMutableRawPointer?
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        var returnValue: CK_RV = CKR_OK
        var message = [CChar](repeating: 0, count: 512)
        let status = sigillum_pkcs11_load(path, &handle, &list, &returnValue, &message, CK_ULONG(message.count))
        let text = message.withUnsafeBufferPointer { buffer in
            String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard status == 0, let handle, let list else {
            switch status {
            case -1:
                throw PKCS11Error(
                    code: .moduleUnavailable,
                    reason: """
                        cannot load the PKCS#11 module \(path) (\(text)); check the path and that the library \
                        and its dependencies are installed for this architecture
                        """
                )
            case -2:
                throw PKCS11Error(
                    code: .moduleUnavailable,
                    reason: "\(path) is not a PKCS#11 module: it exports no C_GetFunctionList (\(text))"
                )
            default:
                throw PKCS11Error(
                    code: .moduleUnavailable,
                    reason: "the PKCS#11 module \(path) returned no function list from C_GetFunctionList",
                    returnValue: returnValue == CKR_OK ? nil : returnValue,
                    function: "C_GetFunctionList"
                )
            }
        }
        var table = list.pointee
        guard table.version.major >= 2 else {
            sigillum_pkcs11_unload(handle)
            throw PKCS11Error(
                code: .moduleUnavailable,
                reason: """
                    the PKCS#11 module \(path) implements Cryptoki \(table.version.major).\(table.version.minor); \
                    Sigillum needs version 2.x or later
                    """
            )
        }
        interpose?(&table)
        do {
            try Self.initialize(table, path: path)
        } catch {
            sigillum_pkcs11_unload(handle)
            throw error
        }
        do {
            self.information = try Self.readInformation(table, path: path)
        } catch {
            _ = table.C_Finalize?(nil)
            sigillum_pkcs11_unload(handle)
            throw error
        }
        self.library = LibraryHandle(handle)
        self.functions = FunctionTable(table)
        self.state.withLock { $0.initialized = true }
    }

    deinit {
        self.finalize()
    }

    /// Calls `C_Finalize` and unloads the library. Later calls fail with
    /// ``PKCS11Error/ErrorCode/shutDown``. Calling it again does nothing.
    ///
    /// Every session of every signer on this module ends: finalise only after closing them.
    public func finalize() {
        self.lock.withWriteLock {
            let (wasInitialized, wasFinalized) = self.state.withLock { state in
                defer {
                    state.finalized = true
                    state.initialized = false
                }
                return (state.initialized, state.finalized)
            }
            guard !wasFinalized else { return }
            if wasInitialized, let finalize = self.functions.table.C_Finalize {
                _ = finalize(nil)
            }
            self.library.close()
        }
    }

    /// The current generation: it changes when the module is re-initialised.
    var generation: UInt64 {
        self.state.withLock { $0.generation }
    }

    /// `C_Finalize` followed by `C_Initialize`, unless another caller did so since `observed`.
    ///
    /// Some modules read their token list only at `C_Initialize` (SoftHSM2 scans its token directory
    /// then), so a token that went away and came back is found only after this. Every session of every
    /// signer on the module ends; their signers notice and reconnect.
    func reinitialize(ifGeneration observed: UInt64) throws {
        try self.lock.withWriteLock { () throws(PKCS11Error) in
            let proceed = self.state.withLock { state in
                guard !state.finalized, state.generation == observed else { return false }
                state.generation &+= 1
                return true
            }
            guard proceed else { return }
            let wasInitialized = self.state.withLock { state in
                defer { state.initialized = false }
                return state.initialized
            }
            if wasInitialized, let finalize = self.functions.table.C_Finalize {
                _ = finalize(nil)
            }
            try Self.initialize(self.functions.table, path: self.path)
            self.state.withLock { $0.initialized = true }
        }
    }

    /// `C_Initialize` with `CKF_OS_LOCKING_OK`; the caller holds the write lock (or has not shared the module yet).
    private static func initialize(_ table: CK_FUNCTION_LIST, path: String) throws(PKCS11Error) {
        guard let initialize = table.C_Initialize else {
            throw PKCS11Error(code: .moduleUnavailable, reason: "the PKCS#11 module \(path) lacks C_Initialize")
        }
        var arguments = CK_C_INITIALIZE_ARGS(
            CreateMutex: nil,
            DestroyMutex: nil,
            LockMutex: nil,
            UnlockMutex: nil,
            flags: CKF_OS_LOCKING_OK,
            pReserved: nil
        )
        let returnValue = initialize(&arguments)
        switch returnValue {
        case CKR_OK:
            return
        case CKR_CRYPTOKI_ALREADY_INITIALIZED:
            throw PKCS11Error(
                code: .moduleUnavailable,
                reason: """
                    the PKCS#11 module \(path) is already initialised in this process; load it once and share \
                    that PKCS11Module between the signers that use it
                    """,
                returnValue: returnValue,
                function: "C_Initialize"
            )
        case CKR_CANT_LOCK, CKR_NEED_TO_CREATE_THREADS:
            throw PKCS11Error(
                code: .moduleUnavailable,
                reason: """
                    the PKCS#11 module \(path) cannot run multi-threaded with the operating system's locks \
                    (CKF_OS_LOCKING_OK); Sigillum needs a thread-safe module
                    """,
                returnValue: returnValue,
                function: "C_Initialize"
            )
        default:
            throw PKCS11Error(
                code: .moduleUnavailable,
                reason: """
                    the PKCS#11 module \(path) failed to initialise; check its own configuration (for SoftHSM2 \
                    the file named by SOFTHSM2_CONF and its token directory's permissions)
                    """,
                returnValue: returnValue,
                function: "C_Initialize"
            )
        }
    }

    private static func readInformation(_ table: CK_FUNCTION_LIST, path: String) throws(PKCS11Error)
        -> PKCS11ModuleInformation
    {
        guard let getInfo = table.C_GetInfo else {
            throw PKCS11Error(code: .moduleUnavailable, reason: "the PKCS#11 module \(path) lacks C_GetInfo")
        }
        var info = CK_INFO()
        let returnValue = getInfo(&info)
        guard returnValue == CKR_OK else {
            throw PKCS11Error.call("C_GetInfo", returnValue: returnValue, context: "reading the module information")
        }
        return PKCS11ModuleInformation(
            manufacturer: paddedText(info.manufacturerID),
            libraryDescription: paddedText(info.libraryDescription),
            cryptokiVersion: "\(info.cryptokiVersion.major).\(info.cryptokiVersion.minor)",
            libraryVersion: "\(info.libraryVersion.major).\(info.libraryVersion.minor)"
        )
    }

    // MARK: - The funnel

    /// Calls one module function while no re-initialisation runs, turning its `CK_RV` into a ``PKCS11Error``.
    ///
    /// - Parameters:
    ///   - name: The function's name, for the error.
    ///   - function: The entry from the table; a missing entry is an error.
    ///   - session: The session the call uses, if any: a session of an older generation is not passed to
    ///     the module (its handle number may belong to someone else now); the call fails as
    ///     `CKR_SESSION_HANDLE_INVALID` would.
    ///   - context: What Sigillum was doing, for the error's reason.
    ///   - accepting: Return values that count as success besides `CKR_OK`.
    ///   - body: The call.
    /// - Returns: The return value (`CKR_OK` or one of `accepting`).
    @discardableResult
    func call<Function>(
        _ name: String,
        _ function: Function?,
        session: PKCS11Session? = nil,
        context: @autoclosure () -> String,
        accepting: Set<CK_RV> = [],
        _ body: (Function) -> CK_RV
    ) throws -> CK_RV {
        let returnValue = try self.withModule(session: session, function: name) { () throws(PKCS11Error) in
            guard let function else {
                throw PKCS11Error(
                    code: .operationFailed,
                    reason: "the PKCS#11 module \(self.path) does not provide \(name), needed for \(context())",
                    function: name
                )
            }
            return body(function)
        }
        guard returnValue == CKR_OK || accepting.contains(returnValue) else {
            throw PKCS11Error.call(name, returnValue: returnValue, context: context())
        }
        return returnValue
    }

    /// Runs `body` (several calls that belong together: find-init, find, find-final) under the read lock.
    func withModule<T>(
        session: PKCS11Session?,
        function: String,
        _ body: () throws(PKCS11Error) -> T
    ) throws(PKCS11Error) -> T {
        try self.lock.withReadLock { () throws(PKCS11Error) -> T in
            let (generation, initialized, finalized) = self.state.withLock {
                ($0.generation, $0.initialized, $0.finalized)
            }
            guard !finalized else {
                throw PKCS11Error(
                    code: .shutDown,
                    reason: "the PKCS#11 module \(self.path) has been finalised",
                    function: function
                )
            }
            guard initialized else {
                throw PKCS11Error(
                    code: .tokenUnavailable,
                    reason: "the PKCS#11 module \(self.path) is not initialised after a failed re-initialisation",
                    returnValue: CKR_CRYPTOKI_NOT_INITIALIZED,
                    function: function
                )
            }
            if let session, session.generation != generation {
                throw PKCS11Error(
                    code: .tokenUnavailable,
                    reason: "the session ended when the PKCS#11 module \(self.path) was re-initialised",
                    returnValue: CKR_SESSION_HANDLE_INVALID,
                    function: function
                )
            }
            return try body()
        }
    }
}

/// What `C_GetInfo` says about a PKCS#11 library.
public struct PKCS11ModuleInformation: Sendable, Hashable {
    /// `manufacturerID`, such as `SoftHSM`.
    public var manufacturer: String
    /// `libraryDescription`, such as `Implementation of PKCS11`.
    public var libraryDescription: String
    /// The Cryptoki version the library implements, such as `2.40`.
    public var cryptokiVersion: String
    /// The library's own version.
    public var libraryVersion: String
}

/// A session handle with the slot and module generation it was opened in.
struct PKCS11Session: Sendable, Hashable {
    var handle: CK_SESSION_HANDLE
    var slot: CK_SLOT_ID
    var generation: UInt64
}

/// The module's function table, copied out of the library (so a test may interpose entries).
struct FunctionTable: @unchecked Sendable {
    // @unchecked: a table of C function pointers, written once before the module is shared and
    // only read afterwards.
    let table: CK_FUNCTION_LIST

    init(_ table: CK_FUNCTION_LIST) {
        self.table = table
    }
}

/// The `dlopen` handle, closed once.
private final class LibraryHandle: @unchecked Sendable {
    // @unchecked: the pointer is only handed to dlclose, once, under the module's write lock.
    private var handle: UnsafeMutableRawPointer?

    init(_ handle: UnsafeMutableRawPointer) {
        self.handle = handle
    }

    func close() {
        if let handle = self.handle {
            sigillum_pkcs11_unload(handle)
            self.handle = nil
        }
    }
}

extension PKCS11Error {
    /// The error for a module function that returned `returnValue`.
    ///
    /// The code follows the return value: the token-loss set (``PKCS11ReturnValue/meansTokenLoss(_:)``)
    /// is ``ErrorCode/tokenUnavailable``, the PIN set ``ErrorCode/pinRejected``, others
    /// ``ErrorCode/operationFailed``.
    static func call(
        _ function: String,
        returnValue: CK_RV,
        context: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> PKCS11Error {
        let name = PKCS11ReturnValue.name(of: returnValue)
        let code: ErrorCode
        let advice: String
        if PKCS11ReturnValue.meansTokenLoss(returnValue) {
            code = .tokenUnavailable
            advice = "the token, its session or its login went away"
        } else if PKCS11ReturnValue.meansPINRejected(returnValue) {
            code = .pinRejected
            advice = "the token refused the PIN"
        } else {
            code = .operationFailed
            advice = "the module refused the operation"
        }
        return PKCS11Error(
            code: code,
            reason: "\(function) failed with \(name) while \(context): \(advice)",
            returnValue: returnValue,
            function: function,
            file: file,
            line: line
        )
    }
}
