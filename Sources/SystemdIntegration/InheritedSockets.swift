import CSystemd
import Glibc

/// Listening sockets passed by the service manager (socket activation, sd_listen_fds(3)).
///
/// systemd passes them as descriptors 3, 4, … with `$LISTEN_FDS`, `$LISTEN_PID` and `$LISTEN_FDNAMES` (the
/// socket units' `FileDescriptorName=`). One name may cover several descriptors: a socket unit with an IPv4 and an
/// IPv6 `ListenStream=` passes both under its one name. Sigillum knows the names `public`, `admin` and `verify`.
public struct InheritedSockets: Sendable {
    /// Descriptors by name, in the order systemd passed them.
    public private(set) var byName: [String: [Int32]]

    public init(byName: [String: [Int32]] = [:]) {
        self.byName = byName
    }

    /// No socket was passed.
    public var isEmpty: Bool { self.byName.isEmpty }

    /// Removes and returns the descriptors passed under `name`.
    public mutating func take(_ name: String) -> [Int32] {
        self.byName.removeValue(forKey: name) ?? []
    }

    /// Reads what systemd passed to this process and unsets the variables, so that child processes (chronyc) do not
    /// think the sockets are theirs. libsystemd marks the descriptors close-on-exec.
    ///
    /// - Throws: ``SystemdIntegrationError`` when a descriptor is not a listening stream socket (a `ListenDatagram=`
    ///   or `Accept=yes` unit by mistake), with its name, so that the operator can fix the unit.
    public static func fromServiceManager() throws(SystemdIntegrationError) -> InheritedSockets {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                var index = 0
                while let name = names[index] {
                    free(name)
                    index += 1
                }
                free(names)
            }
        }
        guard count >= 0 else {
            throw SystemdIntegrationError(
                "the sockets passed by systemd cannot be read (\(String(cString: strerror(-count))))")
        }
        var sockets: [String: [Int32]] = [:]
        for index in 0..<Int(count) {
            let descriptor = SD_LISTEN_FDS_START + Int32(index)
            let name = names.flatMap { $0[index] }.map { String(cString: $0) } ?? "unknown"
            // sd_is_socket: a stream socket (any family) that is listening.
            guard sd_is_socket(descriptor, AF_UNSPEC, Int32(SOCK_STREAM.rawValue), 1) > 0 else {
                throw SystemdIntegrationError(
                    """
                    the socket systemd passed as '\(name)' (descriptor \(descriptor)) is not a listening stream \
                    socket; use ListenStream= and Accept=no in the socket unit
                    """)
            }
            sockets[name, default: []].append(descriptor)
        }
        return InheritedSockets(byName: sockets)
    }
}

/// A failure of the systemd integration, with what to fix.
public struct SystemdIntegrationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
