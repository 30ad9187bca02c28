// The one error shape of the API: {"error": {"code", "message", "field"?}} with an HTTP status.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields
    /// Extra members of the error object (e.g. the limit that denied an allocation).
    public var details: [String: JSONValue]

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, headers: HTTPFields = [:], details: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        self.details = details
    }

    public static func badRequest(_ message: String, field: String? = nil, code: String = "invalid_input") -> APIError {
        APIError(.badRequest, code: code, message: message, field: field)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    public static func conflict(_ message: String, code: String = "conflict") -> APIError {
        APIError(.conflict, code: code, message: message)
    }

    public static func unprocessable(_ message: String, code: String, field: String? = nil) -> APIError {
        APIError(.unprocessableContent, code: code, message: message, field: field)
    }

    public static func databaseUnavailable(_ message: String = "the database is unavailable") -> APIError {
        APIError(.serviceUnavailable, code: "database_unavailable", message: message)
    }

    public static func internalError() -> APIError {
        APIError(.internalServerError, code: "internal_error", message: "an internal error occurred; it has been logged")
    }

    var body: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        for (key, value) in details { error[key] = value }
        return .object(["error": .object(error)])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try BudgetJSON.encoder.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A JSON value for error details and metadata passed through untouched.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Decimal.self) { self = .number("\(value)") }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(Decimal(string: value) ?? 0)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
