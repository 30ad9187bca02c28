// Idempotency keys for the administrative writes (budgets, limits, prices). The engine's writes
// keep their keys inside their own SQL transaction instead (sql/migrations/0003).
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct IdempotencyRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public enum Claim: Sendable {
        /// The key is new and now claimed: do the work, then `finish` (or `abandon` on failure).
        case claimed
        /// The key was used with the same request: here is the first answer.
        case replay(status: Int, body: JSONValue)
        case conflict
        case inProgress
    }

    public func claim(operation: String, key: String, hash: String, logger: Logger) async throws -> Claim {
        let rows = try await client.collect("SELECT idempotency_begin(\(operation), \(key), \(hash))::text", logger: logger)
        for try await text in rows.decode(String?.self) {
            guard let text else { return .claimed }
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            guard case .object(let object) = value else { throw StoreError(.corrupt, "bad idempotency record") }
            if case .string(let outcome)? = object["outcome"] {
                if outcome == "idempotency_conflict" { return .conflict }
                if outcome == "idempotency_in_progress" { return .inProgress }
            }
            guard case .number(let status)? = object["status"], let code = Int(status), let body = object["body"] else {
                throw StoreError(.corrupt, "bad idempotency record")
            }
            return .replay(status: code, body: body)
        }
        return .claimed
    }

    public func finish(operation: String, key: String, status: Int, body: JSONValue, logger: Logger) async throws {
        let response = try String(decoding: JSONEncoder().encode(JSONValue.object(["status": .number(String(status)), "body": body])), as: UTF8.self)
        try await client.perform("SELECT idempotency_finish(\(operation), \(key), \(response)::jsonb)", logger: logger)
    }

    public func abandon(operation: String, key: String, logger: Logger) async throws {
        try await client.perform("DELETE FROM idempotency_keys WHERE operation = \(operation) AND key = \(key) AND response IS NULL", logger: logger)
    }
}
