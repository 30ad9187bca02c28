// The one error shape of the API: {"error": {"code", "message", "field"?}} with an HTTP status.
import BudgetCore
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
        try response()
    }

    func response() throws -> Response {
        try JSONResponse.make(status, body, headers: headers)
    }
}

