import Testing

@testable import OCSPResponder

@Suite struct OCSPResponderModuleTests {
    @Test func moduleLinks() {
        #expect(String(describing: OCSPResponderModule.self) == "OCSPResponderModule")
    }
}
