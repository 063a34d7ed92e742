import Foundation
import Signing
import Testing

@Suite("SecretSource")
struct SecretSourceTests {
    @Test("an environment variable, one trailing newline stripped")
    func environment() throws {
        let secret = try SecretSource.environment(name: "PASS").resolve(environment: ["PASS": "s3cret\n"])
        #expect(secret == Array("s3cret".utf8))
    }
}
