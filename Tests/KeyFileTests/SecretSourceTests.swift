import Foundation
import Signing
import Testing

@Suite("SecretSource")
struct SecretSourceTests {
    @Test("one trailing newline is stripped, and only one")
    func newline() throws {
        func resolve(_ value: String) throws -> [UInt8] {
            try SecretSource.environment(name: "S").resolve(environment: ["S": value])
        }
        #expect(try resolve("s3cret\n") == Array("s3cret".utf8))
        #expect(try resolve("s3cret\r\n") == Array("s3cret".utf8))
        #expect(try resolve("s3cret\n\n") == Array("s3cret\n".utf8))
        #expect(try resolve(" s3cret ") == Array(" s3cret ".utf8))
    }

    @Test("a file")
    func file() async throws {
        try await withTemporaryDirectory { directory in
            try writeSecretFile("\(directory)/pass", "from a file\n")
            #expect(try SecretSource.file(path: "\(directory)/pass").resolve() == Array("from a file".utf8))

            let missing = #expect(throws: SignerError.self) {
                try SecretSource.file(path: "\(directory)/nope").resolve()
            }
            #expect(missing?.code == .secretUnavailable)
            #expect(missing?.reason.contains("\(directory)/nope") == true)

            let isDirectory = #expect(throws: SignerError.self) { try SecretSource.file(path: directory).resolve() }
            #expect(isDirectory?.code == .secretUnavailable)

            try writeSecretFile("\(directory)/big", String(repeating: "x", count: 5000))
            let tooLong = #expect(throws: SignerError.self) {
                try SecretSource.file(path: "\(directory)/big").resolve()
            }
            #expect(tooLong?.code == .secretUnavailable)

            try writeSecretFile("\(directory)/empty", "\n")
            let empty = #expect(throws: SignerError.self) {
                try SecretSource.file(path: "\(directory)/empty").resolve()
            }
            #expect(empty?.code == .secretUnavailable)
            #expect(empty?.reason.contains("empty") == true)
        }
    }

    @Test("a file open to other users is refused with the chmod that fixes it; 0600 and 0400 are accepted")
    func fileProtection() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/pass"
            try writeSecretFile(path, "s3cret\n")
            for mode in [0o644, 0o640, 0o604, 0o620, 0o660] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
                let open = #expect(throws: SignerError.self, "mode \(String(mode, radix: 8))") {
                    try SecretSource.file(path: path).resolve()
                }
                #expect(open?.code == .secretUnavailable)
                #expect(open?.reason.contains("chmod 600 \(path)") == true, "\(String(describing: open))")
                #expect(open?.reason.contains(String(mode, radix: 8)) == true)
                #expect(open?.reason.contains("s3cret") == false)
            }
            for mode in [0o600, 0o400] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
                #expect(try SecretSource.file(path: path).resolve() == Array("s3cret".utf8))
            }
        }
    }

    @Test(
        "a secret file of another user (neither Sigillum's nor root) is refused",
        .enabled(if: geteuid() == 0, "needs root to give the file away")
    )
    func fileOfAnotherUser() async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/pass"
            try writeSecretFile(path, "s3cret\n")
            try FileManager.default.setAttributes([.ownerAccountID: 65_534], ofItemAtPath: path)
            let foreign = #expect(throws: SignerError.self) { try SecretSource.file(path: path).resolve() }
            #expect(foreign?.code == .secretUnavailable)
            #expect(foreign?.reason.contains("user id 65534") == true, "\(String(describing: foreign))")
        }
    }

    @Test("an environment variable")
    func environment() throws {
        let unset = #expect(throws: SignerError.self) {
            try SecretSource.environment(name: "SIGILLUM_NOT_SET").resolve(environment: [:])
        }
        #expect(unset?.code == .secretUnavailable)
        #expect(unset?.reason.contains("SIGILLUM_NOT_SET") == true)
        let empty = #expect(throws: SignerError.self) {
            try SecretSource.environment(name: "E").resolve(environment: ["E": ""])
        }
        #expect(empty?.code == .secretUnavailable)
    }

    @Test("a systemd credential")
    func credential() async throws {
        try await withTemporaryDirectory { directory in
            try writeFile("\(directory)/pin", "1234\n")
            let source = SecretSource.credential(name: "pin")
            #expect(try source.resolve(environment: ["CREDENTIALS_DIRECTORY": directory]) == Array("1234".utf8))

            let noDirectory = #expect(throws: SignerError.self) { try source.resolve(environment: [:]) }
            #expect(noDirectory?.code == .secretUnavailable)
            #expect(noDirectory?.reason.contains("CREDENTIALS_DIRECTORY") == true)
            #expect(noDirectory?.reason.contains("LoadCredential=pin") == true)

            let missing = #expect(throws: SignerError.self) {
                try SecretSource.credential(name: "other").resolve(environment: ["CREDENTIALS_DIRECTORY": directory])
            }
            #expect(missing?.code == .secretUnavailable)
            #expect(missing?.reason.contains("\(directory)/other") == true)

            let traversal = #expect(throws: SignerError.self) {
                try SecretSource.credential(name: "../pin").resolve(environment: ["CREDENTIALS_DIRECTORY": directory])
            }
            #expect(traversal?.code == .secretUnavailable)
        }
    }

    @Test("descriptions name the source, never the secret")
    func descriptions() {
        #expect("\(SecretSource.file(path: "/etc/p"))" == "the secret file /etc/p")
        #expect("\(SecretSource.environment(name: "P"))" == "the environment variable P")
        #expect("\(SecretSource.credential(name: "c"))" == "the systemd credential c")
    }
}
