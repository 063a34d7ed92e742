import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid` by PID, outside Foundation's `Process`.
///
/// The daemons the tests start are children of this kind, for two reasons. They get the signal mask and dispositions
/// a service manager gives (none blocked, all default), whatever the spawning thread blocks. And a launcher that execs
/// the daemon (`systemd-socket-activate`, `unshare … exec`) does not confuse the monitoring: Foundation's `Process`
/// on Linux took such an exec for an exit, parked a worker in a blocking `waitpid` on the still-running PID, and
/// stopped reaping every later child of the test process (they stayed zombies, and their `Process` never finished).
final class SpawnedChild: Sendable {
    let pid: pid_t
    private let exit = Mutex<Int32?>(nil)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Spawns `executable ARGUMENTS` with `environment`, in `directory`, stdin from /dev/null and stdout/stderr
    /// appended to the two files.
    static func spawn(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        directory: String,
        standardOutput: String,
        standardError: String
    ) throws -> SpawnedChild {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        // glibc ≥ 2.29 has it, but Swift's Glibc module does not import it.
        typealias AddChdir =
            @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>)
            -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") {
            _ = unsafeBitCast(symbol, to: AddChdir.self)(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw IntegrationError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return SpawnedChild(pid: pid)
    }

    /// Reaps the child if it has ended; true while it runs.
    var isRunning: Bool {
        self.exit.withLock { exit in
            guard exit == nil else { return false }
            var status: Int32 = 0
            let reaped = waitpid(self.pid, &status, WNOHANG)
            guard reaped == self.pid else { return reaped == 0 }
            // WIFEXITED / WEXITSTATUS / WTERMSIG by hand: the macros are not imported.
            let signal = status & 0x7f
            exit = signal == 0 ? (status >> 8) & 0xff : signal
            return false
        }
    }

    /// The exit status, or the number of the signal that ended it, as Foundation's `Process` reports it; -1 while
    /// the child runs.
    var terminationStatus: Int32 {
        _ = self.isRunning
        return self.exit.withLock { $0 } ?? -1
    }
}
