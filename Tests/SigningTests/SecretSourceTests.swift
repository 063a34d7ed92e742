import Foundation
import Signing
import Testing

@Suite("SecretSource", .serialized)
struct SecretSourceTests {
    @Test("a file: the trailing line break is stripped, other octets are kept")
    func file() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/pin"
            try writeSecretFile(path, " 12 34 \r\n")
            #expect(try SecretSource.file(path: path).resolve() == Array(" 12 34 ".utf8))
            try writeSecretFile(path, "5678")
            #expect(try SecretSource.file(path: path).resolve() == Array("5678".utf8))
        }
    }

    @Test("an empty or missing file is an error naming the file, never the secret")
    func fileErrors() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/pin"
            try writeSecretFile(path, "\n")
            let empty = try #require(throws: SignerError.self) { try SecretSource.file(path: path).resolve() }
            #expect(empty.code == .secretUnavailable)
            #expect(empty.reason.contains(path))
            #expect(empty.reason.contains("empty"))
            let missing = try #require(throws: SignerError.self) {
                try SecretSource.file(path: "\(directory)/absent").resolve()
            }
            #expect(missing.code == .secretUnavailable)
            #expect(missing.reason.contains("\(directory)/absent"))
        }
    }

    @Test("an environment variable, set, unset and empty")
    func environment() throws {
        let name = "SIGILLUM_TEST_SECRET_\(UUID().uuidString.prefix(8))"
        let missing = try #require(throws: SignerError.self) { try SecretSource.environment(name: name).resolve() }
        #expect(missing.code == .secretUnavailable)
        #expect(missing.reason.contains(name))
        setenv(name, "s3cret\n", 1)
        defer { unsetenv(name) }
        #expect(try SecretSource.environment(name: name).resolve() == Array("s3cret".utf8))
        setenv(name, "", 1)
        #expect(throws: SignerError.self) { try SecretSource.environment(name: name).resolve() }
    }

    @Test("a systemd credential is read from $CREDENTIALS_DIRECTORY")
    func credential() async throws {
        try await withTemporaryDirectory { directory in
            let previous = getenv("CREDENTIALS_DIRECTORY").map { String(cString: $0) }
            defer {
                if let previous {
                    setenv("CREDENTIALS_DIRECTORY", previous, 1)
                } else {
                    unsetenv("CREDENTIALS_DIRECTORY")
                }
            }
            unsetenv("CREDENTIALS_DIRECTORY")
            let unset = try #require(throws: SignerError.self) {
                try SecretSource.credential(name: "tsa-pin").resolve()
            }
            #expect(unset.code == .secretUnavailable)
            #expect(unset.reason.contains("LoadCredential=tsa-pin"))

            setenv("CREDENTIALS_DIRECTORY", directory, 1)
            try writeFile("\(directory)/tsa-pin", "246810\n")
            #expect(try SecretSource.credential(name: "tsa-pin").resolve() == Array("246810".utf8))
            let absent = try #require(throws: SignerError.self) { try SecretSource.credential(name: "other").resolve() }
            #expect(absent.reason.contains("the systemd credential other"))
            #expect(throws: SignerError.self) { try SecretSource.credential(name: "../tsa-pin").resolve() }
        }
    }

    @Test("the description names the source")
    func description() {
        #expect("\(SecretSource.file(path: "/etc/sigillum/pin"))" == "the secret file /etc/sigillum/pin")
        #expect("\(SecretSource.environment(name: "PIN"))" == "the environment variable PIN")
        #expect("\(SecretSource.credential(name: "pin"))" == "the systemd credential pin")
    }
}
