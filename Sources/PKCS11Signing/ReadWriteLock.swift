#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A POSIX read-write lock: many readers or one writer.
///
/// ``PKCS11Module`` holds the read side around every module call and the write side around
/// `C_Finalize` + `C_Initialize`, so no call is in flight while the module re-initialises. Callers
/// block, so this is for the PKCS#11 thread pool, never for the cooperative executor. Readers must not
/// nest: a waiting writer (preferred over new readers on glibc) would deadlock a nested reader.
final class ReadWriteLock: @unchecked Sendable {
    // @unchecked: the pthread object is only touched through pthread_rwlock_* calls, which synchronise.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        self.lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
            // Writer preference: a re-initialisation is not starved by a stream of signatures.
            pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        let status = pthread_rwlock_init(self.lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(status == 0, "pthread_rwlock_init failed with \(status)")
    }

    deinit {
        pthread_rwlock_destroy(self.lock)
        self.lock.deallocate()
    }

    /// Runs `body` holding the read side.
    func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_rdlock(self.lock)
        defer { pthread_rwlock_unlock(self.lock) }
        return try body()
    }

    /// Runs `body` holding the write side.
    func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_wrlock(self.lock)
        defer { pthread_rwlock_unlock(self.lock) }
        return try body()
    }
}
