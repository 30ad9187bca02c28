// Turns every error a route throws into the API's JSON error shape, in one place.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.map(error, logger: context.logger)
            return try apiError.response(from: request, context: context)
        }
    }

    static func map(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as DecodingError:
            return decodingError(error)
        case let error as HTTPError:
            switch error.status {
            case .notFound: return APIError(.notFound, code: "not_found", message: error.body ?? "no such route")
            case .methodNotAllowed: return APIError(.methodNotAllowed, code: "method_not_allowed", message: error.body ?? "method not allowed")
            case .contentTooLarge: return APIError(.contentTooLarge, code: "payload_too_large", message: error.body ?? "request body too large")
            default:
                return APIError(error.status, code: error.status.code < 500 ? "invalid_request" : "internal_error", message: error.body ?? error.status.reasonPhrase)
            }
        case let error as any DatabaseUnavailableError:
            logger.error("database unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return .databaseUnavailable()
        default:
            if isConnectionFailure(error) {
                logger.error("database unavailable", metadata: ["error": "\(String(reflecting: error))"])
                return .databaseUnavailable()
            }
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError()
        }
    }

    /// Whether `error` says the database is out of reach: the connection failed or closed, or
    /// the server ended the session or refused it (SQLSTATE class 08, connection exception, and
    /// 57P, operator intervention: a shutdown or restart, an administrator ending the backend, a
    /// server still starting up). A statement timeout (57014) is not one of them. Transactions
    /// (`withLiveTransaction`) throw the error that ended them as it came.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            return true
        case .server:
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default:
            return false
        }
    }

    static func decodingError(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String? {
            let parts = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            guard !parts.isEmpty else { return nil }
            return parts.enumerated().map { index, part in part.hasPrefix("[") || index == 0 ? part : "." + part }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .badRequest("\(field ?? key.stringValue) is required", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("\(field ?? "value") has the wrong type (expected \(Self.describe(type)))", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("\(field ?? "value") must not be null (expected \(Self.describe(type)))", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field == nil {
                return .badRequest("the request body is not valid JSON", code: "malformed_json")
            }
            return .badRequest("\(field!): \(context.debugDescription)", field: field)
        @unknown default:
            return .badRequest("the request body could not be read")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type, is Decimal.Type: return "a number"
        default: return "\(type)"
        }
    }
}

/// Store errors that mean "the database did not answer" conform to this, so routes fail closed with 503.
public protocol DatabaseUnavailableError: Error {}
