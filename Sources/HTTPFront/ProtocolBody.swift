import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading the DER body of a protocol request (RFC 3161 §3.4, RFC 6960 App. A.1) with the checks both share.
enum ProtocolBody {
    /// Checks the media type (`expected`, or none: old clients send none → else 415) and the size (413 from the
    /// announced `Content-Length` before anything is read; a chunked body stops at the limit), then collects it.
    static func collect(_ request: Request, expecting expected: String, message: String, limit: Int) async throws
        -> ByteBuffer
    {
        if let contentType = request.headers[.contentType], contentType != expected {
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard mediaType == expected else {
                throw HTTPError(
                    .unsupportedMediaType, message: "send the \(message) as \(expected), not \(contentType)\n")
            }
        }
        if let lengthText = request.headers[.contentLength], let length = Int(lengthText), length > limit {
            throw Self.tooLarge(limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(limit)
        }
    }

    static func tooLarge(_ limit: Int) -> HTTPError {
        HTTPError(
            .contentTooLarge, headers: [.connection: "close"], message: "the request is larger than \(limit) bytes\n")
    }
}
