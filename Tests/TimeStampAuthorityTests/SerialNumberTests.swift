import Crypto
import DevelopmentPKI
import Foundation
import Ledger
import PKIMessages
import Signing
import SwiftASN1
import Synchronization
import Testing
import TimeStampAuthority
import X509

@Suite struct SerialNumberTests {
    @Test func layoutAndMinimalPositiveEncoding() {
        let small = SerialNumberGenerator(instanceID: 0x0000_0001, epoch: 2)
        #expect(Array(small.next().contentOctets) == [0x01, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(Array(small.next().contentOctets) == [0x01, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2])
        let high = SerialNumberGenerator(instanceID: 0xFFFF_FFFF, epoch: 0xFFFF_FFFF)
        let serial = high.next()
        #expect(serial.contentOctets.first == 0x00)  // a leading zero keeps it positive
        #expect(serial.contentOctets.count == 17)  // 136 bits ≤ 160 (RFC 3161 §2.4.2)
        #expect(!serial.isNegative)
    }

    @Test func epochsNeverCollide() {
        let first = SerialNumberGenerator(instanceID: 5, epoch: 1)
        let second = SerialNumberGenerator(instanceID: 5, epoch: 2)
        let a = (0..<1000).map { _ in first.next() }
        let b = (0..<1000).map { _ in second.next() }
        #expect(Set(a + b).count == 2000)
    }
}
