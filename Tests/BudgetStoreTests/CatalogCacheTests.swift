import BudgetCore
import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("The catalog cache never keeps what a load read before an invalidation")
struct CatalogCacheTests {
    let logger = Logger(label: "BudgetStoreTests")

    /// A load takes its snapshot, then waits (here on a lock); meanwhile a budget is created and
    /// the cache invalidated, as a controller does after a change. The load then ends with the old
    /// catalog: the next reader must get a fresh one, not that.
    @Test func aLoadBegunBeforeAnInvalidationIsNotKept() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let cache = CatalogCache(repository: CatalogRepository(client: client), logger: logger)
            let created = try await client.withConnection { blocker in
                try await blocker.query("BEGIN", logger: logger)
                try await blocker.query("LOCK TABLE prices IN ACCESS EXCLUSIVE MODE", logger: logger)
                let staleLoad = Task { try await cache.current() }
                // Wait until the load has its snapshot and is waiting for the lock on prices.
                var waiting = false
                for _ in 0..<200 where !waiting {
                    let rows = try await client.withConnection { probe in
                        try await probe.query("""
                            SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM prices%'
                            """, logger: logger)
                    }
                    for try await count in rows.decode(Int.self) { waiting = count > 0 }
                    if !waiting { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(waiting, "the load never reached the lock")
                let budget = try await BudgetRepository(client: client).create(name: "after-the-snapshot", owner: nil, description: nil,
                                                                               timeZone: "UTC", active: true, logger: logger)
                cache.invalidate()
                try await blocker.query("COMMIT", logger: logger)
                let stale = try await staleLoad.value
                #expect(stale.budgets[budget.id] == nil, "the load read its snapshot before the budget existed")
                return budget
            }
            let fresh = try await cache.current()
            #expect(fresh.budgets[created.id] != nil)
        }
    }
}
