// Answers "does the database respond?" for the readiness endpoint.
import Logging
import PostgresNIO

public protocol DatabaseHealth: Sendable {
    func ping(timeout: Duration, logger: Logger) async throws
}

public struct DatabaseTimeoutError: Error, CustomStringConvertible {
    public var description: String { "the database did not answer in time" }
}

public struct PostgresDatabaseHealth: DatabaseHealth {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public func ping(timeout: Duration, logger: Logger) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await client.perform("SELECT 1", logger: logger)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DatabaseTimeoutError()
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
