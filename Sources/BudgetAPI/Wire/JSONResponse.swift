// Responses with a JSON body and a chosen status.
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

enum JSONResponse {
    static func make(_ status: HTTPResponse.Status = .ok, _ body: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try BudgetJSON.encoder.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The hot path: a JSONValue is written directly (sorted keys, as the encoder would).
    static func make(_ status: HTTPResponse.Status = .ok, _ body: JSONValue, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let bytes = try body.jsonBytes()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }
}

/// A page of a list: `{"items": [...], "next_cursor": "…" | null}`.
struct Page<Item: Encodable>: Encodable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // null, not absent
    }
}

/// Opaque keyset cursors: base64url of "part|part".
enum Cursor {
    static func make(_ parts: [String]) -> String {
        Data(parts.joined(separator: "\u{1F}").utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func parse(_ text: String, parts: Int) throws -> [String] {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            throw APIError.badRequest("cursor is not valid", field: "cursor")
        }
        let split = decoded.components(separatedBy: "\u{1F}")
        guard split.count == parts else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
        return split
    }
}
