public import PKIMessages
import Synchronization

/// Token serial numbers, unique by construction.
///
/// A serial is `instanceID (32 bits) ‖ epoch (32 bits) ‖ counter (64 bits)`, encoded as a positive minimal
/// INTEGER of at most 17 octets (≤ 160 bits, RFC 3161 §2.4.2). The ledger hands out a new epoch, durably, at every
/// start, so a restart (kill -9 included) never repeats a serial without a database write per token; distinct
/// instances sharing a store or a certificate differ in their instance id.
public final class SerialNumberGenerator: Sendable {
    public let instanceID: UInt32
    public let epoch: UInt32
    private let counter = Atomic<UInt64>(0)

    public init(instanceID: UInt32, epoch: UInt32) {
        self.instanceID = instanceID
        self.epoch = epoch
    }

    /// The next serial.
    public func next() -> DERInteger {
        let count = self.counter.add(1, ordering: .relaxed).newValue
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        withUnsafeBytes(of: self.instanceID.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: self.epoch.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: count.bigEndian) { bytes.append(contentsOf: $0) }
        return DERInteger(unsignedMagnitude: bytes)
    }

    /// How many serials were handed out since start.
    public var issued: UInt64 { self.counter.load(ordering: .relaxed) }
}
