// Idempotency-Key for administrative writes: the first answer to a key is stored and replayed.
import BudgetCore
import BudgetStore
import HTTPTypes
import Hummingbird
import Logging

struct IdempotentResponses: Sendable {
    let repository: IdempotencyRepository

    /// 204 has no body; everything else is JSON.
    static func response(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) throws -> Response {
        if status == .noContent { return Response(status: .noContent, headers: headers) }
        return try JSONResponse.make(status, body, headers: headers)
    }

    func respond(operation: String, request: Request, hash: String, logger: Logger,
                 _ work: () async throws -> (HTTPResponse.Status, JSONValue)) async throws -> Response {
        guard let key = try request.idempotencyKey() else {
            let (status, body) = try await work()
            return try Self.response(status, body)
        }
        switch try await repository.claim(operation: operation, key: key, hash: hash, logger: logger) {
        case .replay(let status, let body):
            return try Self.response(HTTPResponse.Status(code: status), body, headers: [HTTPField.Name("Idempotent-Replayed")!: "true"])
        case .conflict:
            throw APIError.conflict("Idempotency-Key '\(key)' was already used with a different request", code: "idempotency_conflict")
        case .inProgress:
            throw APIError.conflict("a request with Idempotency-Key '\(key)' is still in progress", code: "idempotency_in_progress")
        case .claimed:
            do {
                let (status, body) = try await work()
                try await repository.finish(operation: operation, key: key, status: status.code, body: body, logger: logger)
                return try Self.response(status, body)
            } catch {
                do {
                    try await repository.abandon(operation: operation, key: key, logger: logger)
                } catch let abandonError {
                    logger.error("could not free an idempotency key after a failed request", metadata: ["key": "\(key)", "error": "\(abandonError)"])
                }
                throw error
            }
        }
    }
}
