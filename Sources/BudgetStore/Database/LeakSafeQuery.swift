// Queries whose failure is an expected answer (a unique name taken, an unknown id) run with their
// connection held by `withConnection`: postgres-nio 1.33.2 never gives a pooled connection back
// when a `client.query` fails before its rows are read (PSQLRowStream.asyncSequence, `.failure`),
// so each such failure through `client.query` would cost the pool a connection for good.
import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `query` and lets `body` read its rows while the connection is held.
    func withRows<T>(_ query: PostgresQuery, logger: Logger, _ body: (PostgresRowSequence) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await body(try await connection.query(query, logger: logger))
        }
    }
}
