import Testing
import X509

@testable import OCSPResponder

@Suite("Serial number keys")
struct SerialNumberKeyTests {
    @Test("a DER INTEGER's leading 00, index.txt hex and the magnitude name the same key")
    func canonical() throws {
        let fromInteger = try #require(SerialNumberKey(integerBytes: [0x00, 0x8A, 0x0B]))
        let fromHex = try #require(SerialNumberKey(hex: "8a0b"))
        let fromPaddedHex = try #require(SerialNumberKey(hex: "00008A0B"))
        let fromMagnitude = SerialNumberKey(magnitude: [0x8A, 0x0B])
        #expect(fromInteger == fromHex)
        #expect(fromHex == fromPaddedHex)
        #expect(fromPaddedHex == fromMagnitude)
        #expect(fromInteger.hashValue == fromMagnitude.hashValue)
        #expect(fromInteger.bytes == [0x8A, 0x0B])
        #expect(fromInteger.integerBytes == [0x00, 0x8A, 0x0B])
        #expect(fromInteger.hexString == "8A0B")
        #expect(SerialNumberKey(magnitude: [0x8A]) != fromMagnitude)
        #expect(SerialNumberKey(magnitude: [0x8A, 0x0B, 0x00]) != fromMagnitude)
    }

    @Test("odd-length hex gets a leading nibble; zero is 00")
    func hexForms() throws {
        #expect(try #require(SerialNumberKey(hex: "ABC")).bytes == [0x0A, 0xBC])
        #expect(try #require(SerialNumberKey(hex: "0")).bytes == [])
        #expect(try #require(SerialNumberKey(hex: "00")).hexString == "00")
        #expect(SerialNumberKey(magnitude: []).integerBytes == [0])
        #expect(SerialNumberKey(hex: "") == nil)
        #expect(SerialNumberKey(hex: "0x12") == nil)
        #expect(SerialNumberKey(hex: "12 34") == nil)
    }

    @Test("negative INTEGERs have no key")
    func negative() {
        #expect(SerialNumberKey(integerBytes: [0x80]) == nil)
        #expect(SerialNumberKey(integerBytes: [0xFF, 0x01]) == nil)
        #expect(SerialNumberKey(integerBytes: [UInt8]()) == nil)
        #expect(SerialNumberKey(integerBytes: [0x00]) == SerialNumberKey(magnitude: []))
    }

    @Test(
        "20-octet, 24-octet and longer serials round-trip; inline and heap keys never collide",
        arguments: [1, 8, 9, 20, 24, 25, 40])
    func lengths(count: Int) throws {
        let magnitude = (0..<count).map { UInt8(truncatingIfNeeded: 0x81 + $0 * 7) }
        let key = SerialNumberKey(magnitude: magnitude)
        #expect(key.bytes == magnitude)
        #expect(try #require(SerialNumberKey(hex: key.hexString)) == key)
        #expect(try #require(SerialNumberKey(integerBytes: key.integerBytes)) == key)
        let shorter = SerialNumberKey(magnitude: magnitude.dropLast())
        #expect(shorter != key)
        #expect(shorter < key)
    }

    @Test("a certificate's serial converts")
    func certificateSerial() throws {
        let serial = Certificate.SerialNumber(bytes: [0x00, 0x9F, 0x01])
        #expect(SerialNumberKey(serial).hexString == "9F01")
        #expect(SerialNumberKey(serial) == SerialNumberKey(integerBytes: [0x00, 0x9F, 0x01]))
    }

    @Test("order is numeric")
    func order() throws {
        let keys = try ["0100", "FF", "01", "00", "010000", "0101"].map { try #require(SerialNumberKey(hex: $0)) }
        #expect(keys.sorted().map(\.hexString) == ["00", "01", "FF", "0100", "0101", "010000"])
    }
}
