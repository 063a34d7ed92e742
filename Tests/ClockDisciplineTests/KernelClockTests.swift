import ClockDiscipline
import Testing

@Suite struct KernelClockTests {
    @Test func readsTheKernelStateWithoutChangingIt() throws {
        let first = try KernelClock.read()
        let second = try KernelClock.read()
        // Reading twice gives the same discipline flags: a read never changes the clock.
        #expect(first.statusFlags == second.statusFlags)
        #expect(first.maxErrorMicroseconds >= 0)
    }
}
