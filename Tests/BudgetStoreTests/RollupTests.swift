import BudgetCore
import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("Hourly rollups equal the ledger for every write path; partitions settle and retire without changing them")
struct RollupTests {
    let logger = Logger(label: "BudgetStoreTests")

    func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        for try await value in try await client.query(query).decode(String?.self) { return value }
        return nil
    }

    @Test func insertsUpdatesAndDeletesOnTheParentAreCapturedExactly() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            try await client.query("""
                INSERT INTO usage_records (id, occurred_at, component, provider, provider_key, model_key, task_type, tier,
                                           input_tokens, output_tokens, cache_read_tokens, cost_usd, pricing_status)
                SELECT gen_random_uuid(), now() - make_interval(mins => g * 7), 'c' || (g % 3), ' OpenAI ', 'openai', 'm' || (g % 2),
                       CASE WHEN g % 5 = 0 THEN NULL ELSE 'code' END, NULL, g, 2 * g, g % 4,
                       CASE WHEN g % 4 = 0 THEN NULL ELSE g * 0.0000031 END, CASE WHEN g % 4 = 0 THEN 'unpriced' ELSE 'caller_priced' END
                FROM generate_series(1, 500) g
                """)
            #expect(try await RollupCheck.mismatches(client) == 0)
            let ledgerUnpriced = try await scalar(client, "SELECT count(*)::text FROM usage_records WHERE cost_usd IS NULL")
            #expect(try await scalar(client, "SELECT sum(unpriced_records)::text FROM report.usage_hourly") == ledgerUnpriced)

            // A reprice-like UPDATE of cost and status, then a fold, then a DELETE (tests only: the ledger is append-only).
            try await client.query("UPDATE usage_records SET cost_usd = input_tokens * 0.000002, pricing_status = 'priced' WHERE cost_usd IS NULL AND component = 'c1'")
            #expect(try await RollupCheck.mismatches(client) == 0)
            // A priced row repriced (a wrong price version replaced): only the cost changes.
            try await client.query("UPDATE usage_records SET cost_usd = cost_usd / 10, pricing_status = 'priced' WHERE cost_usd IS NOT NULL AND component = 'c0'")
            #expect(try await RollupCheck.mismatches(client) == 0)
            let folded = try await ReportRepository(client: client).foldRollups(logger: logger)
            #expect(folded > 0)
            #expect(try await scalar(client, "SELECT count(*)::text FROM usage_rollup_deltas") == "0")
            #expect(try await RollupCheck.mismatches(client) == 0)
            try await client.query("DELETE FROM usage_records WHERE component = 'c2'")
            #expect(try await RollupCheck.mismatches(client) == 0)
            try await ReportRepository(client: client).foldRollups(logger: logger)
            #expect(try await RollupCheck.mismatches(client) == 0)
            #expect(try await scalar(client, "SELECT count(*)::text FROM report.usage_hourly WHERE component = 'c2'") == "0")

            // Something actually differs when the ledger changes behind the triggers' back.
            try await client.query("ALTER TABLE usage_records DISABLE TRIGGER usage_rollup_insert")
            try await client.query("INSERT INTO usage_records (id, occurred_at, cost_usd, pricing_status) VALUES (gen_random_uuid(), now(), 1, 'caller_priced')")
            #expect(try await RollupCheck.mismatches(client) == 2, "one hourly and one daily group")
        }
    }

    @Test func concurrentWritersAndFoldsNeverLoseOrDoubleCountARow() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let logger = self.logger
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<12 {
                    group.addTask {
                        for batch in 0..<15 {
                            try await client.query("""
                                INSERT INTO usage_records (id, occurred_at, component, provider_key, model_key, input_tokens, output_tokens, cost_usd, pricing_status)
                                SELECT gen_random_uuid(), now() - make_interval(mins => g), 'w' || \(writer % 3), 'p', 'm', g, \(batch), g * 0.001, 'caller_priced'
                                FROM generate_series(1, 20) g
                                """)
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<30 {
                        try await ReportRepository(client: client).foldRollups(logger: logger)
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await scalar(client, "SELECT count(*)::text FROM usage_records") == "3600")
            #expect(try await scalar(client, "SELECT sum(records)::text FROM report.usage_hourly") == "3600")
            #expect(try await RollupCheck.mismatches(client) == 0)
            try await ReportRepository(client: client).foldRollups(logger: logger)
            #expect(try await scalar(client, "SELECT sum(records)::text FROM usage_hourly") == "3600")
            #expect(try await RollupCheck.mismatches(client) == 0)
        }
    }

    @Test func rowsInTheDefaultPartitionMoveToTheirMonthWithoutChangingTheRollups() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            try await client.query("""
                INSERT INTO usage_records (id, occurred_at, component, cost_usd, pricing_status)
                VALUES (gen_random_uuid(), '2021-02-10T10:00:00Z', 'old', 1.25, 'caller_priced'),
                       (gen_random_uuid(), '2021-05-01T00:00:00Z', 'old', 2, 'caller_priced'),
                       (gen_random_uuid(), now() + interval '30 years', 'skewed', 4, 'caller_priced')
                """)
            let reports = ReportRepository(client: client)
            let settled = try await reports.settleDefaultPartition(monthsAhead: 3, logger: logger)
            #expect(settled == ["usage_records_y2021m02", "usage_records_y2021m05"])
            // The clock-skewed row stays in the default partition.
            #expect(try await scalar(client, "SELECT string_agg(component, ',') FROM usage_records_default") == "skewed")
            #expect(try await RollupCheck.mismatches(client) == 0)
            let partitions = try await reports.partitions(logger: logger)
            let feb = try #require(partitions.first { $0.name == "usage_records_y2021m02" })
            #expect(feb.rangeFrom == InstantFormat.parse("2021-02-01T00:00:00Z"))
            #expect(feb.rangeTo == InstantFormat.parse("2021-03-01T00:00:00Z"))
            #expect(partitions.first?.isDefault == true)
        }
    }

    @Test func retentionDropsOldRawPartitionsButTheRollupsKeepTheirUsage() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            try await client.query("""
                INSERT INTO usage_records (id, occurred_at, component, cost_usd, pricing_status, input_tokens)
                VALUES (gen_random_uuid(), '2020-01-10T10:00:00Z', 'old', 1.25, 'caller_priced', 10),
                       (gen_random_uuid(), '2020-01-11T10:00:00Z', 'old', NULL, 'unpriced', 5),
                       (gen_random_uuid(), now(), 'new', 2, 'caller_priced', 7)
                """)
            let reports = ReportRepository(client: client)
            _ = try await reports.settleDefaultPartition(monthsAhead: 3, logger: logger)
            let dropped = try await reports.dropRawPartitions(keepMonths: 2, logger: logger)
            #expect(dropped == ["usage_records_y2020m01"])
            #expect(try await scalar(client, "SELECT count(*)::text FROM usage_records") == "1")
            #expect(try await scalar(client, "SELECT to_regclass('usage_records_y2020m01')::text") == nil)
            // The month's usage is still reported, and the dropped partition is listed with its exact rows.
            #expect(try await scalar(client, "SELECT sum(records)::text || '/' || sum(cost_usd)::text FROM report.usage_hourly WHERE component = 'old'") == "2/1.25")
            #expect(try await scalar(client, "SELECT row_estimate::text FROM report.ledger_partitions WHERE partition = 'usage_records_y2020m01 (dropped)'") == "2")
            // Recent months and the default partition are kept.
            #expect(try await scalar(client, "SELECT count(*)::text FROM report.ledger_partitions WHERE is_default") == "1")
            #expect(try await reports.dropRawPartitions(keepMonths: 2, logger: logger).isEmpty)

            // A raw-ledger report reaching into the dropped months is refused, not silently short.
            let request = SpendReportRequest(from: InstantFormat.parse("2020-01-01T00:30:00Z")!, to: Date(), bucket: .month, groupBy: [],
                                             timeZone: "UTC", budgetID: nil)
            await #expect(throws: ReportError.self) { try await reports.spend(request, logger: logger) }
            // From whole hours the rollups answer it.
            var whole = request
            whole.from = InstantFormat.parse("2020-01-01T00:00:00Z")!
            whole.to = InstantFormat.parse("2099-01-01T00:00:00Z")!
            let report = try await reports.spend(whole, logger: logger)
            #expect(report.source == .dailyRollups)
            #expect(report.rows.map(\.count).reduce(0, +) == 3)
        }
    }

    /// A report whose query runs past the statement timeout is stopped in PostgreSQL and says so,
    /// instead of running on after its caller has been answered.
    @Test func aReportPastItsStatementTimeoutIsStoppedWithATypedError() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let end = InstantFormat.parse("2026-03-01T00:00:00Z")!
            try await SyntheticUsage(client: client).seed(rows: 20_000, days: 7, end: end, logger: logger)
            // By the hour in Kolkata: every hour is cut, the raw ledger answers.
            let request = SpendReportRequest(from: end.addingTimeInterval(-7 * 86_400), to: end, bucket: .hour, groupBy: [.model],
                                             timeZone: "Asia/Kolkata", budgetID: nil)
            let answered = try await ReportRepository(client: client, statementTimeout: .seconds(30)).spend(request, logger: logger)
            #expect(answered.source == .ledger)
            let inRange = try await scalar(client, "SELECT count(*)::text FROM usage_records WHERE occurred_at >= \(request.from) AND occurred_at < \(end)")
            #expect(String(answered.rows.map(\.count).reduce(0, +)) == inRange)
            do {
                _ = try await ReportRepository(client: client, statementTimeout: .milliseconds(1)).spend(request, logger: logger)
                Issue.record("a 1-ms statement timeout did not stop a 20,000-row report")
            } catch let error as ReportError {
                #expect(error.code == .tooSlow, "\(error)")
            }
            #expect(try await scalar(client, "SELECT count(*)::text FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT x.local%'") == "0")
        }
    }
}
