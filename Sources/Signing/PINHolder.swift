import Synchronization

/// A PIN a signer keeps in memory because its device wants it again later (a PIV slot with PIN policy "always", a
/// PKCS#11 key with `CKA_ALWAYS_AUTHENTICATE`): read once from its ``SecretSource``, zeroed when replaced or erased.
package final class PINHolder: Sendable {
    private let octets: Mutex<[UInt8]?>

    package init(_ octets: [UInt8]?) {
        self.octets = Mutex(octets)
    }

    /// Runs `body` with the PIN, or `nil` when none is kept.
    package func withPIN<T, E: Error>(_ body: ([UInt8]?) throws(E) -> T) throws(E) -> T {
        try self.octets.withLock { octets throws(E) in try body(octets) }
    }

    /// Keeps `octets` instead, zeroing the PIN kept so far.
    package func replace(with octets: [UInt8]?) {
        self.octets.withLock { kept in
            Self.zero(&kept)
            kept = octets
        }
    }

    /// Zeroes and drops the PIN.
    package func erase() {
        self.replace(with: nil)
    }

    private static func zero(_ octets: inout [UInt8]?) {
        // Moved out first, so that the buffer is not shared and is zeroed in place.
        guard var pin = octets.take() else { return }
        pin.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
