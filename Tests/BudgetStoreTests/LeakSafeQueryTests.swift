@testable import BudgetStore
import BudgetTestSupport
import Logging
import PostgresNIO
import Testing

/// Every repository query goes through `collect`/`perform`: failures on the server must never
/// shrink the pool. (These failures do not make a plain `client.query` leak either; the test pins
/// what the helpers promise, not postgres-nio's bug, which needs a race to show.)
@Suite("Failed queries give their pooled connection back")
struct LeakSafeQueryTests {
    let logger = Logger(label: "BudgetStoreTests")

    @Test func aOneConnectionPoolStillAnswersAfterManyFailedQueries() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let answer = try await withClient(endpoint, maximumConnections: 1) { client in
            for _ in 0..<5 {
                // Fails on its first row: the row stream exists when the error arrives.
                await #expect(throws: PSQLError.self) {
                    try await client.collect("SELECT 1 / (n - 1) FROM generate_series(1, 5) AS n", logger: logger)
                }
                await #expect(throws: PSQLError.self) { try await client.perform("SELECT no_such_column FROM budgets", logger: logger) }
            }
            // With a leaked connection this would wait for the pool forever: bound it.
            return try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    for try await value in try await client.collect("SELECT 41 + 1", logger: logger).decode(Int.self) { return value }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
        #expect(answer == 42)
    }

    @Test func collectedRowsDecodeSeveralColumnsInOrder() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let rows = try await withClient(endpoint) { client in
            var rows: [String] = []
            let query: PostgresQuery = "SELECT n, 'row ' || n FROM generate_series(1, 3) AS n"
            for try await (number, text) in try await client.collect(query, logger: logger).decode((Int, String).self) {
                rows.append("\(number):\(text)")
            }
            return rows
        }
        #expect(rows == ["1:row 1", "2:row 2", "3:row 3"])
    }
}
