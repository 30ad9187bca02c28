// Every query runs with its connection held by `withConnection`: postgres-nio 1.33.2 does not give
// a pooled connection back when a `client.query` row stream has already failed as its sequence is
// made (PSQLRowStream.asyncSequence, `.failure`); failed engine batches kept connections that way.
// Plain failing queries in a test (a division by zero, at once or after some rows) did not, so
// which failures leak is not pinned down; holding the connection makes it not matter.
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

extension PostgresClient {
    /// `query` with its connection held until every row is read, so that no failure can keep a
    /// pooled connection. Every repository reads through this or `withRows`; result sets here are
    /// pages and reports, small enough to hold.
    func collect(_ query: PostgresQuery, logger: Logger) async throws -> CollectedRows {
        try await withRows(query, logger: logger) { rows in
            var collected: [PostgresRow] = []
            for try await row in rows { collected.append(row) }
            return CollectedRows(rows: collected)
        }
    }

    /// A statement whose rows are not needed, run as `collect` runs it.
    func perform(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await collect(query, logger: logger)
    }
}

/// Rows read to the end while their connection was held; iterated and decoded as a
/// `PostgresRowSequence` is.
struct CollectedRows: AsyncSequence, Sendable {
    typealias Element = PostgresRow
    let rows: [PostgresRow]

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        mutating func next() async throws -> PostgresRow? { base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }

    func decode<each Column: PostgresDecodable>(_ columnType: (repeat each Column).Type, file: String = #fileID, line: Int = #line)
        -> DecodedRows<(repeat each Column)> {
        DecodedRows(rows: rows) { row in try row.decode((repeat each Column).self, file: file, line: line) }
    }
}

/// The decoded values of collected rows; a row that does not decode throws when it is reached.
struct DecodedRows<Element>: AsyncSequence {
    let rows: [PostgresRow]
    let decodeRow: (PostgresRow) throws -> Element

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        let decodeRow: (PostgresRow) throws -> Element
        mutating func next() async throws -> Element? { try base.next().map(decodeRow) }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator(), decodeRow: decodeRow) }
}
