import Foundation
import PKIMessages
import Testing

/// What a client got: the serial's content octets and the token DER.
struct IssuedToken: Sendable {
    var serial: [UInt8]
    var token: [UInt8]
    var genTime: String
    /// The imprint the client sent.
    var imprint: [UInt8]

    /// The serial as `instanceID(4) ‖ epoch(4) ‖ counter(8)`, from the INTEGER's magnitude left-padded to 16 octets.
    var parts: (instance: [UInt8], epoch: UInt32, counter: UInt64) {
        var magnitude = Array(self.serial.drop { $0 == 0 })
        magnitude = [UInt8](repeating: 0, count: max(0, 16 - magnitude.count)) + magnitude
        let epoch = magnitude[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let counter = magnitude[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (Array(magnitude[0..<4]), epoch, counter)
    }
}

/// One audit row: serial (hex of the BLOB) → token_sha256 (hex).
func auditRows(_ database: String) async throws -> [String: String] {
    let rows = try await Tool.sqlite(
        database, "SELECT lower(hex(serial)), lower(hex(token_sha256)) FROM tsa_audit ORDER BY seq")
    var result: [String: String] = [:]
    for row in rows {
        let columns = row.split(separator: "|").map(String.init)
        if columns.count == 2 { result[columns[0]] = columns[1] }
    }
    return result
}

/// SHA-256 of each token as `sha256sum` computes it (not our code), in order.
func sha256OfTokens(_ tokens: [[UInt8]], in directory: String) async throws -> [String] {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var paths: [String] = []
    for (index, token) in tokens.enumerated() {
        let path = "\(directory)/token-\(index).der"
        try writeFile(path, token)
        paths.append(path)
    }
    let output = try checked(try await Tool.run(tool: "sha256sum", paths)).output
    var byPath: [String: String] = [:]
    for line in output.split(separator: "\n") {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { continue }
        byPath[parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))] = String(parts[0])
    }
    return paths.map { byPath[$0] ?? "" }
}

/// Asks for one token with a fresh random imprint and nonce; expects it granted.
func issueToken(_ banner: Banner) async throws -> IssuedToken {
    let digest = randomBytes(32)
    let response = try await TSAClient.post(try Requests.make(digest: digest), to: banner)
    #expect(response.status == .granted)
    let token = try #require(response.token)
    return IssuedToken(
        serial: try #require(response.serial),
        token: try #require(response.tokenDER),
        genTime: token.tstInfo.genTime.text,
        imprint: digest
    )
}

@Suite("Durability: serials stay unique across kill -9, every token is audited")
struct DurabilityTests {
    @Test func killNineAndRestart() async throws {
        try await withTemporaryDirectory("durability") { directory in
            let state = directory + "/state"
            let arguments = developmentArguments(stateDirectory: state)
            var issued: [IssuedToken] = []

            let first = try DaemonProcess.start(arguments, logDirectory: directory)
            do {
                let banner = try await first.waitForBanner()
                for _ in 0..<20 { issued.append(try await issueToken(banner)) }
            } catch {
                await first.stop()
                throw IntegrationError("\(error)\n\(first.logs)")
            }
            await first.kill9()
            #expect(!first.isRunning)

            try await withDaemon(arguments, logDirectory: directory) { _, banner in
                for _ in 0..<20 { issued.append(try await issueToken(banner)) }
            }

            #expect(issued.count == 40)
            #expect(Set(issued.map { hex($0.serial) }).count == 40, "serials repeat")
            let before = issued[0..<20].map(\.parts)
            let after = issued[20..<40].map(\.parts)
            #expect(Set(before.map(\.epoch)).count == 1 && Set(after.map(\.epoch)).count == 1)
            #expect(
                after[0].epoch > before[0].epoch, "the epoch did not increase: \(before[0].epoch) → \(after[0].epoch)")
            #expect(after[0].instance == before[0].instance, "the instance id changed across the restart")
            // Within an epoch the counter counts up from 1.
            #expect(before.map(\.counter) == Array(1...20))
            #expect(after.map(\.counter) == Array(1...20))

            // OpenSSL reads the same serials (`ts -reply -token_in`: the input is a bare token).
            for (index, token) in issued.enumerated() where index % 5 == 0 {
                let tokenPath = "\(directory)/check-\(index).der"
                try writeFile(tokenPath, token.token)
                let text = try checked(
                    try await Tool.openssl(["ts", "-reply", "-token_in", "-in", tokenPath, "-text"])
                ).output
                let serial = try #require(OpenSSLTS.serialHex(inReplyText: text), "\(text)")
                let printed = bytes(fromHex: serial.count % 2 == 0 ? serial : "0" + serial) ?? []
                #expect(printed.drop { $0 == 0 } == token.serial.drop { $0 == 0 }, "OpenSSL reads serial \(serial)")
            }

            // Every serial a client received has its audit row, with the SHA-256 of the token the client got.
            let rows = try await auditRows(state + "/ledger.sqlite")
            let digests = try await sha256OfTokens(issued.map(\.token), in: directory + "/tokens")
            for (token, digest) in zip(issued, digests) {
                let row = rows[hex(token.serial)]
                #expect(row != nil, "serial \(hex(token.serial)) has no tsa_audit row")
                #expect(row == nil || row == digest, "token_sha256 of \(hex(token.serial)): \(row ?? "-") ≠ \(digest)")
            }
            #expect(rows.count == 40, "the ledger holds \(rows.count) records")
            let verify = try await Tool.sigillum(["ledger", "verify", "--state-dir", state])
            #expect(verify.status == 0 && verify.output.contains("ledger intact: 40 records"), "\(verify)")
        }
    }

    /// 200 requests at once (50 curl processes in flight at a time, loopback only).
    @Test func twoHundredConcurrentRequests() async throws {
        try await withDevelopmentDaemon("concurrent") { state, _, banner in
            let issued = try await withThrowingTaskGroup(of: IssuedToken.self) { group in
                var results: [IssuedToken] = []
                var started = 0
                while started < 50 {
                    group.addTask { try await issueToken(banner) }
                    started += 1
                }
                while let token = try await group.next() {
                    results.append(token)
                    if started < 200 {
                        group.addTask { try await issueToken(banner) }
                        started += 1
                    }
                }
                return results
            }
            #expect(issued.count == 200)
            #expect(Set(issued.map { hex($0.serial) }).count == 200, "serials repeat under concurrency")
            // genTime: UTC with Z, a fraction without trailing zeros (RFC 3161 §2.4.2) — 200 samples hit every digit.
            let badTimes = issued.map(\.genTime).filter { $0.wholeMatch(of: /\d{14}(\.\d*[1-9])?Z/) == nil }
            #expect(badTimes.isEmpty, "genTime with a trailing zero or without Z: \(badTimes.prefix(5))")

            let rows = try await auditRows(state + "/ledger.sqlite")
            #expect(rows.count == 200, "tsa_audit holds \(rows.count) rows")
            let digests = try await sha256OfTokens(issued.map(\.token), in: state + "/tokens")
            let mismatched = zip(issued, digests).filter { rows[hex($0.0.serial)] != $0.1 }
            #expect(mismatched.isEmpty, "\(mismatched.count) tokens without a matching audit row")
            let metrics = try await HTTPClient.get(banner.metricsURL).text
            #expect(HTTPClient.metric(metrics, "sigillum_tsa_tokens_issued_total") == 200, "\(metrics)")

            // The other columns of each row hold what the client sent and got.
            let details = try await Tool.sqlite(
                state + "/ledger.sqlite",
                "SELECT lower(hex(serial)), lower(hex(imprint)), hash_alg, policy, client, gen_time, accuracy_us FROM tsa_audit"
            )
            var rowsBySerial: [String: [String]] = [:]
            for line in details {
                let columns = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                if let serial = columns.first { rowsBySerial[serial] = columns }
            }
            for token in issued {
                let columns = rowsBySerial[hex(token.serial)] ?? []
                let expected = [
                    hex(token.serial), hex(token.imprint), "2.16.840.1.101.3.4.2.1",
                    DaemonConfiguration.developmentPolicy,
                    "127.0.0.1", token.genTime, "500000",
                ]
                #expect(columns == expected, "audit row of \(hex(token.serial))")
                if columns != expected { break }
            }
        }
    }

    /// kill -9 while requests are in flight: every token a client did receive was committed before it was sent
    /// (its audit row exists, with the token's SHA-256); requests cut off get no token, not a token without a row.
    @Test func killNineUnderLoad() async throws {
        try await withTemporaryDirectory("durability-load") { directory in
            let state = directory + "/state"
            let daemon = try DaemonProcess.start(developmentArguments(stateDirectory: state), logDirectory: directory)
            let received: [IssuedToken]
            do {
                let banner = try await daemon.waitForBanner()
                received = await withTaskGroup(of: IssuedToken?.self) { group in
                    var tokens: [IssuedToken] = []
                    var started = 0
                    func startOne() {
                        group.addTask {
                            // Requests cut off by the kill fail in curl: no token, nothing to check.
                            guard let response = try? await HTTPClient.post(banner.tsaURL, body: try Requests.make()),
                                response.status == 200, let parsed = try? ReceivedResponse(response.body),
                                let serial = parsed.serial, let token = parsed.tokenDER
                            else { return nil }
                            return IssuedToken(
                                serial: serial,
                                token: token,
                                genTime: parsed.token?.tstInfo.genTime.text ?? "",
                                imprint: []
                            )
                        }
                        started += 1
                    }
                    for _ in 0..<20 { startOne() }
                    while let next = await group.next() {
                        if let next { tokens.append(next) }
                        if tokens.count == 40 { await daemon.kill9() }
                        if started < 120 && daemon.isRunning { startOne() }
                    }
                    return tokens
                }
            } catch {
                await daemon.stop()
                throw IntegrationError("\(error)\n\(daemon.logs)")
            }
            await daemon.kill9()
            #expect(received.count >= 40, "only \(received.count) tokens before the kill")
            // Read-write open: SQLite recovers the WAL the killed daemon left.
            let rows = try await Tool.sqlite(
                state + "/ledger.sqlite",
                "SELECT lower(hex(serial)), lower(hex(token_sha256)) FROM tsa_audit",
                readOnly: false
            )
            var bySerial: [String: String] = [:]
            for row in rows {
                let columns = row.split(separator: "|").map(String.init)
                if columns.count == 2 { bySerial[columns[0]] = columns[1] }
            }
            let digests = try await sha256OfTokens(received.map(\.token), in: directory + "/tokens")
            let missing = zip(received, digests).filter { bySerial[hex($0.0.serial)] != $0.1 }
            #expect(missing.isEmpty, "\(missing.count) of \(received.count) received tokens have no matching audit row")
            #expect(bySerial.count >= received.count)
            let verify = try await Tool.sigillum(["ledger", "verify", "--state-dir", state])
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
