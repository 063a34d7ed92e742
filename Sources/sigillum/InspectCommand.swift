import ArgumentParser
import Foundation
import PKIMessages
import SwiftASN1

/// `sigillum inspect FILE`: prints a TimeStampResp, a bare token or a request.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a time-stamp response (.tsr), a bare token, or a request (.tsq).",
        discussion: """
            The kind is detected by trying: TimeStampResp, then a token (CMS ContentInfo), then TimeStampReq. \
            The layout follows `openssl ts -reply -text` (and `openssl ts -query -text` for a request), \
            followed by a Signer section: SignerInfo, signingCertificateV2 and the certificates included. \
            Nothing is verified; use `openssl ts -verify` for that. Exits 1 when the file cannot be parsed.
            """
    )

    @Argument(help: ArgumentHelp("A DER file: .tsr response, token, or .tsq request.", valueName: "file"))
    var file: String

    func run() async throws {
        try await self.reportingFailures { () throws(CLIError) in
            Console.print(try Self.render(try Self.read(self.file), name: self.file))
        }
    }

    static func read(_ path: String) throws(CLIError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw CLIError(
                exists ? "\(path) cannot be read; check its permissions" : "\(path): no such file",
                exitCode: 1
            )
        }
        return Array(data)
    }

    /// The printout of `bytes`, whatever of the three kinds they hold.
    static func render(_ bytes: [UInt8], name: String) throws(CLIError) -> [String] {
        let responseError: any Error
        do {
            let response = try TimeStampResp(derEncoded: bytes)
            do {
                return TokenPrinter.response(response, token: try response.parsedToken())
            } catch {
                // A response whose token is broken is still a response: say where it broke.
                Console.print(["Status info:"] + TokenPrinter.statusInfo(response.status) + [""])
                throw CLIError(
                    "\(name): the response's timeStampToken cannot be parsed: \(TokenPrinter.parseError(error))",
                    exitCode: 1)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            responseError = error
        }

        let tokenError: any Error
        do {
            return TokenPrinter.token(try TimeStampToken(derEncoded: bytes))
        } catch {
            tokenError = error
        }

        do {
            return TokenPrinter.request(try TimeStampReq(derEncoded: bytes))
        } catch {
            if bytes.first == UInt8(ascii: "-") {
                throw CLIError("\(name) looks like PEM; convert it to DER first (openssl base64 -d)", exitCode: 1)
            }
            throw CLIError(
                """
                \(name) is neither a time-stamp response, a token nor a request (DER expected):
                  as TimeStampResp: \(TokenPrinter.parseError(responseError))
                  as TimeStampToken: \(TokenPrinter.parseError(tokenError))
                  as TimeStampReq: \(TokenPrinter.parseError(error))
                """,
                exitCode: 1
            )
        }
    }
}
