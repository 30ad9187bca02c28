import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("The ledger is partitioned by month, created ahead, and far-off rows land somewhere sensible")
struct LedgerPartitionTests {
    func partitions(_ client: PostgresClient) async throws -> [String] {
        var names: [String] = []
        let rows = try await client.query("""
            SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'usage_records'::regclass ORDER BY 1
            """)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    @Test func monthsAroundNowExistAfterMigration() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let names = try await partitions(client)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            for offset in [-1, 0, 1, 2, 3] {
                let month = calendar.date(byAdding: .month, value: offset, to: Date())!
                let parts = calendar.dateComponents([.year, .month], from: month)
                let name = String(format: "usage_records_y%04dm%02d", parts.year!, parts.month!)
                #expect(names.contains(name), "\(name) missing from \(names)")
            }
            #expect(names.contains("usage_records_default"))
        }
    }

    @Test func farPastRowsWaitInTheDefaultPartitionAndMoveWhenTheirMonthIsCreated() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            try await client.query("""
                INSERT INTO usage_records (id, occurred_at, pricing_status, cost_usd)
                VALUES (gen_random_uuid(), '2019-03-31T23:59:59.999999Z', 'caller_priced', 1.5),
                       (gen_random_uuid(), '2019-03-01T00:00:00Z', 'caller_priced', 2.25)
                """)
            var inDefault = 0
            for try await count in try await client.query("SELECT count(*)::int FROM usage_records_default").decode(Int.self) { inDefault = count }
            #expect(inDefault == 2)

            try await client.query("SELECT ensure_usage_partition('2019-03-15'::date)")
            var moved = 0
            for try await count in try await client.query("SELECT count(*)::int FROM usage_records_y2019m03").decode(Int.self) { moved = count }
            #expect(moved == 2)
            var left = -1
            for try await count in try await client.query("SELECT count(*)::int FROM usage_records_default").decode(Int.self) { left = count }
            #expect(left == 0)
            var total = ""
            for try await sum in try await client.query("SELECT sum(cost_usd)::text FROM usage_records").decode(String.self) { total = sum }
            #expect(total == "3.75", "no row lost or doubled by the move")
            // Calling it again is harmless.
            try await client.query("SELECT ensure_usage_partition('2019-03-02'::date)")
        }
    }
}
