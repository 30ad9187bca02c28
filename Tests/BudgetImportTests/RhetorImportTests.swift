import BudgetCore
@testable import BudgetImport
import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import SQLiteNIO
import Testing

/// The shared Rhetor export imported end to end, against the figures its README gives (sqlite3
/// queries on the file as shipped).
@Suite("Rhetor's SQLite budget database is imported exactly, once, and reconciled before it commits")
struct RhetorImportTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rhetor/rhetor_budget_export.db").path
    let logger = Logger(label: "BudgetImportTests")

    func importer(_ client: PostgresClient) throws -> RhetorImporter {
        RhetorImporter(client: client, scripts: try ImportScripts.rhetor(sqlDirectory: TestDatabaseServer.sqlDirectory), logger: logger)
    }

    /// A scratch copy of the fixture that a test may change.
    func scratchCopy(_ name: String = #function) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rhetor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("rhetor.db").path
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
        return path
    }

    func sqlite(_ path: String, _ statements: [String]) async throws {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in statements { _ = try await connection.query(statement) }
        try await connection.close()
    }

    /// Rounded to 10 places, as the README prints sums (`printf('%.10f', sum(cost))`).
    func tenPlaces(_ value: Decimal) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 10, .plain)
        let text = rounded.plainText
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        return parts[0] + "." + fraction + String(repeating: "0", count: 10 - fraction.count)
    }

    /// Ledger figures computed straight from usage_records, independent of the importer's own
    /// reconciliation: provider → rows, input, output, cost as Rhetor stored it.
    func ledgerByProvider(_ client: PostgresClient) async throws -> [String: (Int64, String, String, String)] {
        var result: [String: (Int64, String, String, String)] = [:]
        let rows = try await client.query("""
            SELECT coalesce(quote_literal(provider), 'NULL'), count(*), sum(input_tokens)::text, sum(output_tokens)::text,
                   coalesce(sum(cost_usd) FILTER (WHERE pricing_status = 'caller_priced'), 0)::text
            FROM usage_records WHERE origin = 'rhetor_import' GROUP BY provider
            """)
        for try await (provider, n, input, output, cost) in rows.decode((String, Int64, String, String, String).self) {
            result[provider] = (n, input, output, cost)
        }
        return result
    }

    func count(_ client: PostgresClient, _ table: String) async throws -> Int64 {
        var n: Int64 = -1
        for try await value in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")).decode(Int64.self) { n = value }
        return n
    }

    @Test func everyFigureOfTheExportIsReproduced() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let report = try await importer(client).run(file: Self.fixture, options: .init())
            #expect(report.outcome == .imported)
            #expect(report.rowsInFile == 5022)
            #expect(report.rowsAdded == 5022)
            #expect(report.reconciliation.matches)
            #expect(report.sha256 == "a463fd1f41c550754348002edeb0c62430299794e0eb41da2986dfaf4348d9ce")

            // Totals: 5022 rows, $223.7617786500, 3014272219 input and 5392786 output tokens.
            let total = try #require(report.reconciliation.total)
            #expect(total.ledger.rows == 5022)
            #expect(tenPlaces(total.ledger.cost) == "223.7617786500")
            #expect(total.ledger.inputTokens == 3_014_272_219)
            #expect(total.ledger.outputTokens == 5_392_786)

            // Per provider, straight from the ledger.
            let expected: [String: (Int64, String, String, String)] = [
                "'anthropic'": (3723, "10820675", "4004629", "186.8049516500"),
                "'mistral'": (1, "1541", "708", "0.0000000000"),
                "'ollama'": (319, "3000762267", "359797", "0.0000000000"),
                "'openai'": (698, "2004455", "732621", "36.9568270000"),
                "'simulated'": (46, "112895", "49936", "0.0000000000"),
                "NULL": (235, "570386", "245095", "0.0000000000"),
            ]
            let byProvider = try await ledgerByProvider(client)
            #expect(byProvider.count == expected.count)
            for (provider, figures) in expected {
                let actual = try #require(byProvider[provider], "\(provider) missing")
                #expect(actual.0 == figures.0, "\(provider) rows")
                #expect(actual.1 == figures.1 && actual.2 == figures.2, "\(provider) tokens")
                #expect(tenPlaces(Decimal(exactly: actual.3)!) == figures.3, "\(provider) cost \(actual.3)")
            }

            // Per month of the naive timestamp (UTC here, so the ledger's UTC month).
            let months: [String: (Int, Decimal, Decimal, String)] = [
                "2026-07": (149, 450071, 164387, "6.9033878500"),
                "2026-08": (996, 4200801, 1237610, "81.0090551500"),
                "2026-09": (1168, 2854599, 1162744, "40.1417260500"),
                "2026-10": (1610, 3003825576, 1657275, "57.4014427000"),
                "2026-11": (1099, 2941172, 1170770, "38.3061669000"),
            ]
            let monthLines = report.reconciliation.lines(.month)
            #expect(monthLines.count == 5)
            for line in monthLines {
                let want = try #require(months[line.key.month ?? ""])
                #expect(line.ledger.rows == want.0 && line.ledger.inputTokens == want.1 && line.ledger.outputTokens == want.2)
                #expect(tenPlaces(line.ledger.cost) == want.3, "\(line.key.label)")
            }

            // Per provider+model, the costs.
            let models: [String: (Int, String)] = [
                "'anthropic' 'claude-3-5-haiku-20241022'": (43, "0.2414824000"), "'anthropic' 'claude-3-5-sonnet-20240620'": (231, "4.3810490000"),
                "'anthropic' 'claude-3-5-sonnet-20241022'": (15, "0.0000000000"), "'anthropic' 'claude-3-7-sonnet-20250219'": (1, "0.0000000000"),
                "'anthropic' 'claude-3-haiku-20240307'": (1016, "1.1323572500"), "'anthropic' 'claude-3-opus-20240229'": (667, "135.3086400000"),
                "'anthropic' 'claude-3-sonnet-20240229'": (1750, "45.7414230000"), "'mistral' 'mistral-large-latest'": (1, "0.0000000000"),
                "'ollama' 'llama3'": (290, "0.0000000000"), "'ollama' 'qwen2.5-coder:7b'": (29, "0.0000000000"),
                "'openai' 'gpt-3.5-turbo'": (145, "0.4106170000"), "'openai' 'gpt-4'": (44, "6.2241300000"),
                "'openai' 'gpt-4-turbo'": (136, "9.7238500000"), "'openai' 'gpt-4o'": (354, "20.5982300000"),
                "'openai' 'gpt-4o-mini'": (18, "0.0000000000"), "'openai' 'o1-mini'": (1, "0.0000000000"),
                "'simulated' 'simulated-standard'": (46, "0.0000000000"), "NULL NULL": (235, "0.0000000000"),
            ]
            let modelLines = report.reconciliation.lines(.providerModel)
            #expect(modelLines.count == models.count)
            for line in modelLines {
                let want = try #require(models[line.key.label], "\(line.key.label) unexpected")
                #expect(line.ledger.rows == want.0 && tenPlaces(line.ledger.cost) == want.1, "\(line.key.label)")
            }

            // Per month+provider: 25 groups, a few pinned.
            let monthProvider = report.reconciliation.lines(.monthProvider)
            #expect(monthProvider.count == 25)
            let pinned: [String: (Int, String)] = [
                "2026-08 'anthropic'": (793, "74.7756296500"), "2026-11 NULL": (198, "0.0000000000"),
                "2026-10 'openai'": (251, "12.9748535000"), "2026-11 'mistral'": (1, "0.0000000000"),
            ]
            for (label, want) in pinned {
                let line = try #require(monthProvider.first { $0.key.label == label }, "\(label) missing")
                #expect(line.ledger.rows == want.0 && tenPlaces(line.ledger.cost) == want.1, "\(label)")
            }
        }
    }

    @Test func edgeCaseRowsArriveAsRhetorWroteThem() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            _ = try await importer(client).run(file: Self.fixture, options: .init())
            func row(_ id: Int) async throws -> (String?, String?, String?, Int64, Int64, String?, String, String, String) {
                let rows = try await client.query("""
                    SELECT u.component, u.provider, u.task_type, u.input_tokens, u.output_tokens, u.cost_usd::text, u.pricing_status,
                           to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), u.metadata::text
                    FROM legacy_usage l JOIN usage_records u ON u.id = l.usage_id AND u.occurred_at = l.occurred_at
                    WHERE l.legacy_source = 'rhetor' AND l.legacy_id = \(id)
                    """)
                for try await r in rows.decode((String?, String?, String?, Int64, Int64, String?, String, String, String).self) { return r }
                throw ImportError(.invalidRow, "row \(id) not imported")
            }
            let big = try await row(2763)
            #expect(big.3 == 3_000_000_000 && big.4 == 12000 && big.6 == "caller_priced" && big.5 == "0")
            #expect(try await row(754).0 == "hermès")
            #expect(try await row(1659).0 == "τέλος")
            #expect(try await row(2361).0 == "アテナ")
            #expect(try await row(3318).0 == "ergon🚀")
            let unicode = try await row(754).8
            #expect(unicode.contains("Grüße — 你好 — 🚀"), "metadata decoded from Rhetor's ASCII escapes: \(unicode)")
            let noComponent = try await row(3770)
            #expect(noComponent.0 == nil && noComponent.2 == nil && noComponent.1 == "openai" && noComponent.5 == "0.00017999999999999998")   // Python repr() of the stored double
            for id in [251, 603, 1508, 3217, 3569] {
                let zero = try await row(id)
                #expect(zero.3 == 0 && zero.4 == 0)
            }

            // Exact month starts and the last microsecond of August stay on their side of the boundary.
            var stamps: [String] = []
            let boundary = try await client.query("""
                SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM legacy_usage
                WHERE raw_timestamp IN ('2026-09-01T00:00:00', '2026-10-01T00:00:00', '2026-08-31T23:59:59.999999') ORDER BY occurred_at
                """)
            for try await s in boundary.decode(String.self) { stamps.append(s) }
            #expect(stamps == ["2026-08-31T23:59:59.999999", "2026-09-01T00:00:00.000000", "2026-10-01T00:00:00.000000"])

            // Rows Rhetor priced at $0 because it did not know the model are unpriced, not free:
            // NULL provider/model (235) and the unknown models with cost 0 (65). The 43 Claude 3.5
            // Haiku rows were priced by their caller and keep that cost.
            var statuses: [String: Int64] = [:]
            for try await (status, n) in try await client.query(
                "SELECT pricing_status, count(*) FROM usage_records GROUP BY 1").decode((String, Int64).self) { statuses[status] = n }
            #expect(statuses == ["unpriced": 300, "caller_priced": 4722])
            var haiku: (Int64, String) = (0, "")
            for try await h in try await client.query("""
                SELECT count(*), sum(cost_usd)::text FROM usage_records
                WHERE model = 'claude-3-5-haiku-20241022' AND pricing_status = 'caller_priced' AND cost_usd > 0
                """).decode((Int64, String).self) { haiku = h }
            #expect(haiku.0 == 43 && haiku.1 == "0.24148239999999999176")   // Σ Decimal(repr(cost)) in Python
            #expect(try await count(client, "budget_events WHERE type = 'unpriced_usage'") == 7)   // 6 unknown models and NULL/NULL
        }
    }

    @Test func settingsBecomeLimitVersionsWithTheirHistory() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let report = try await importer(client).run(file: Self.fixture, options: .init())
            #expect(report.settingsInFile == 11)
            #expect(report.limitVersionsAdded == 8)
            var versions: [String] = []
            let rows = try await client.query("""
                SELECT l.period || ' ' || coalesce(l.provider, 'ALL') || ' ' || l.amount::text || ' ' || l.policy || ' ' ||
                       to_char(l.valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || ' ' ||
                       coalesce(to_char(l.valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), 'current')
                FROM limits l JOIN budgets b ON b.id = l.budget_id
                WHERE b.name = 'rhetor' AND l.metric = 'cost_usd' ORDER BY l.valid_from, l.period
                """)
            for try await v in rows.decode(String.self) { versions.append(v) }
            #expect(versions == [
                "daily ALL 25 warn 2026-07-24T17:55:00 2026-09-02T18:15:12",     // id 1, superseded by id 7
                "monthly ALL 400 ignore 2026-07-24T17:55:00 current",              // id 3 (changed in place to ignore)
                "weekly ALL 120 warn 2026-07-24T17:55:00 current",                 // id 2: 'all' is a global limit
                "daily anthropic 3 enforce 2026-08-03T18:18:06 2026-10-22T18:00:54", // id 4, superseded by id 9
                "monthly openai 60 warn 2026-08-13T18:37:43 current",              // id 5
                "daily ALL 30 warn 2026-09-02T18:15:12 current",                   // id 7
                "weekly anthropic 18 enforce 2026-09-22T18:35:35 current",         // id 8 (id 6 was limit 0: no limit)
                "daily anthropic 4.5 enforce 2026-10-22T18:00:54 current",           // id 9
            ])
            var noLimit: [Int64] = []
            for try await id in try await client.query(
                "SELECT legacy_id FROM legacy_limit_settings WHERE limit_id IS NULL ORDER BY 1").decode(Int64.self) { noLimit.append(id) }
            #expect(noLimit == [6, 10, 11])
        }
    }

    @Test func importingTheSameFileAgainChangesNothingAndSaysSo() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            _ = try await importer(client).run(file: Self.fixture, options: .init())
            let limitsBefore = try await count(client, "limits")
            let again = try await importer(client).run(file: Self.fixture, options: .init())
            #expect(again.outcome == .unchanged)
            #expect(again.rowsAdded == 0 && again.rowsBefore == 5022)
            #expect(again.reconciliation.matches)
            #expect(try await count(client, "usage_records") == 5022)
            #expect(try await count(client, "limits") == limitsBefore)
            #expect(try await count(client, "import_runs") == 1)
        }
    }

    @Test func aNewerExportAddsOnlyItsNewRowsAndChanges() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            _ = try await importer(client).run(file: Self.fixture, options: .init())
            let newer = try scratchCopy()
            try await sqlite(newer, [
                """
                INSERT INTO usage (timestamp, provider, model, component, task_type, input_tokens, output_tokens, cost, metadata) VALUES
                ('2026-11-21T18:00:00.000001', 'anthropic', 'claude-3-opus-20240229', 'ergon', 'code', 1000, 100, 0.0225, '{}'),
                ('2026-11-21T18:05:00', 'openai', 'gpt-4o', 'hermes', 'chat', 10, 20, 0.0007, '{"context_id": "hermes:x"}'),
                ('2026-11-21T18:06:00', NULL, NULL, 'rhetor', 'default', 5, 5, 0.0, '{}'),
                ('2026-11-21T18:07:00', 'ollama', 'llama3', 'engram', 'default', 9223372036854775807, 0, 0.0, '{}')
                """,
                "UPDATE budget_settings SET enforcement = 'warn' WHERE id = 9",   // Rhetor's in-place set_enforcement_policy
            ])
            let report = try await importer(client).run(file: newer, options: .init())
            #expect(report.outcome == .imported)
            #expect(report.rowsAdded == 4 && report.rowsBefore == 5022 && report.rowsInFile == 5026)
            #expect(report.reconciliation.matches)
            #expect(try await count(client, "usage_records") == 5026)
            #expect(try await count(client, "usage_records WHERE input_tokens = 9223372036854775807") == 1)   // 2^63 − 1 tokens
            #expect(report.reconciliation.total?.ledger.inputTokens == Decimal(string: "9223372039869049041"))   // exact, past 64 bits
            var policies: [String] = []
            for try await p in try await client.query("""
                SELECT policy || coalesce(' until ' || to_char(valid_to, 'YYYY'), '') FROM limits
                WHERE period = 'daily' AND provider = 'anthropic' AND amount = 4.5 ORDER BY version
                """).decode(String.self) { policies.append(p) }
            #expect(policies == ["enforce until 2026", "warn"])
        }
    }

    /// The database ends the import's session (a restart, an administrator) while the import
    /// waits for a lock: the import fails at once with the server's reason and sends no ROLLBACK
    /// on the ended connection (a query sent there never ends), nothing is stored, and the next
    /// import goes through.
    @Test func anImportWhoseSessionIsEndedFailsAndChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let importer = try importer(client)
            let logger = self.logger
            let result = try await client.withConnection { holder in
                try await holder.query("BEGIN", logger: logger)
                try await holder.query("LOCK TABLE import_runs IN EXCLUSIVE MODE", logger: logger)
                let run = Task { try await importer.run(file: Self.fixture, options: .init()) }
                try await client.waitForSessionsWaitingForALock(running: "INSERT INTO import_runs")
                try await client.endSessionsWaitingForALock(running: "INSERT INTO import_runs")
                let result = await answer(of: run, by: .now + .seconds(60))
                try await holder.query("COMMIT", logger: logger)
                return result
            }
            let error = #expect(throws: ImportError.self) { try result.get() }
            #expect(error?.code == .transformFailed)
            #expect(error?.message.contains("ended the import's session") == true, "\(String(describing: error))")
            #expect(try await count(client, "import_runs") == 0)
            #expect(try await count(client, "usage_records") == 0)
            #expect(try await importer.run(file: Self.fixture, options: .init()).outcome == .imported)
            #expect(try await count(client, "usage_records") == 5022)
        }
    }

    @Test func aFileThatRewroteHistoryIsRefusedAndChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            _ = try await importer(client).run(file: Self.fixture, options: .init())
            let rewritten = try scratchCopy()
            try await sqlite(rewritten, ["UPDATE usage SET cost = 99 WHERE id = 17"])
            let error = await #expect(throws: ImportError.self) {
                try await importer(client).run(file: rewritten, options: .init())
            }
            #expect(error?.code == .conflictingHistory)
            #expect(error?.message.contains("17") == true)
            #expect(try await count(client, "usage_records") == 5022)
            #expect(try await count(client, "import_runs") == 1)
        }
    }

    @Test func corruptedAndForeignFilesAreRefusedWithAClearMessage() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rhetor-bad-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

            let garbage = dir.appendingPathComponent("garbage.db").path
            try Data("this is not a database at all, just text".utf8).write(to: URL(fileURLWithPath: garbage))
            let truncated = dir.appendingPathComponent("truncated.db").path
            try Data(try Data(contentsOf: URL(fileURLWithPath: Self.fixture)).prefix(300_000)).write(to: URL(fileURLWithPath: truncated))
            let foreign = dir.appendingPathComponent("foreign.db").path
            try await sqlite(foreign, ["CREATE TABLE usage (id INTEGER PRIMARY KEY, tokens INTEGER)", "CREATE TABLE budget_settings (id INTEGER)"])

            for (path, code) in [(garbage, ImportError.Code.unreadableFile), (truncated, .unreadableFile), (foreign, .notRhetor),
                                 (dir.appendingPathComponent("missing.db").path, .unreadableFile)] {
                let error = await #expect(throws: ImportError.self) {
                    try await importer(client).run(file: path, options: .init())
                }
                #expect(error?.code == code, "\(path): \(String(describing: error))")
                #expect(error?.message.contains(path) == true)
            }
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("missing.db").path), "opening read-only creates nothing")
            #expect(try await count(client, "usage_records") == 0)
            #expect(try await count(client, "budgets") == 0)
        }
    }

    @Test func rowsThatCannotBeCarriedOverFaithfullyStopTheImport() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let bad = try scratchCopy()
            try await sqlite(bad, ["UPDATE usage SET cost = -1.5 WHERE id = 12", "UPDATE usage SET timestamp = 'last tuesday' WHERE id = 13"])
            let error = await #expect(throws: ImportError.self) {
                try await importer(client).run(file: bad, options: .init())
            }
            #expect(error?.code == .invalidRow)
            #expect(error?.message.contains("usage 12: cost is negative (-1.5)") == true)
            #expect(error?.message.contains("usage 13: timestamp \"last tuesday\"") == true)
            #expect(try await count(client, "usage_records") == 0)
        }
    }

    @Test func metadataThatIsNotJSONIsKeptAsText() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let odd = try scratchCopy()
            try await sqlite(odd, ["UPDATE usage SET metadata = '{\"context_id\": broken' WHERE id = 5", "UPDATE usage SET metadata = NULL WHERE id = 6"])
            let report = try await importer(client).run(file: odd, options: .init())
            #expect(report.rowsAdded == 5022 && report.reconciliation.matches)
            var metadata: [String] = []
            for try await m in try await client.query(
                "SELECT metadata::text FROM usage_records WHERE request_id IN ('rhetor:5', 'rhetor:6') ORDER BY request_id").decode(String.self) {
                metadata.append(m)
            }
            #expect(metadata == [#"{"rhetor_metadata_text": "{\"context_id\": broken"}"#, "{}"])
        }
    }

    @Test func aDryRunReconcilesAndWritesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let report = try await importer(client).run(file: Self.fixture, options: .init(dryRun: true))
            #expect(report.outcome == .dryRun)
            #expect(report.rowsAdded == 5022 && report.reconciliation.matches)
            #expect(try await count(client, "usage_records") == 0)
            #expect(try await count(client, "limits") == 0)
            #expect(try await count(client, "import_runs") == 0)
        }
    }

    @Test func naiveTimestampsAreReadInTheChosenZone() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let report = try await importer(client).run(file: Self.fixture, options: .init(timezone: "America/New_York", budgetName: "rhetor-ny"))
            #expect(report.reconciliation.matches)   // months compared in the zone: the round trip holds
            var instant = ""
            for try await s in try await client.query("""
                SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') FROM legacy_usage WHERE raw_timestamp = '2026-09-01T00:00:00'
                """).decode(String.self) { instant = s }
            #expect(instant == "2026-09-01T04:00:00")   // EDT is UTC−4
            var zone = ""
            for try await z in try await client.query("SELECT timezone FROM budgets WHERE name = 'rhetor-ny'").decode(String.self) { zone = z }
            #expect(zone == "America/New_York")

            await #expect(throws: ImportError.self) {
                try await importer(client).run(file: Self.fixture, options: .init(timezone: "Mars/Olympus"))
            }
        }
    }

    @Test func liveWindowCountersCountTheImportedSpend() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            // A global daily dollar limit whose counter for 2026-10-12 (UTC) exists before the import.
            let budget = UUID(), limit = UUID()
            try await client.query("INSERT INTO budgets (id, name) VALUES (\(budget), 'ops')")
            try await client.query("""
                INSERT INTO limits (id, version, budget_id, period, metric, amount, policy)
                VALUES (\(limit), 1, \(budget), 'daily', 'cost_usd', 1000, 'enforce')
                """)
            try await client.query("""
                SELECT limit_window_lock(\(limit), 'd:2026-10-12', '2026-10-12T00:00:00Z', '2026-10-13T00:00:00Z')
                """)
            _ = try await importer(client).run(file: Self.fixture, options: .init())
            var spent = "", ledger = ""
            for try await s in try await client.query(
                "SELECT spent::text FROM limit_windows WHERE limit_id = \(limit)").decode(String.self) { spent = s }
            for try await s in try await client.query("""
                SELECT sum(cost_usd)::text FROM usage_records WHERE occurred_at >= '2026-10-12T00:00:00Z' AND occurred_at < '2026-10-13T00:00:00Z'
                """).decode(String.self) { ledger = s }
            #expect(!ledger.isEmpty && Decimal(exactly: ledger)! > 0)
            #expect(spent == ledger)
        }
    }

    @Test func theHourlyRollupsEqualTheLedgerAfterAnImportAndItsPartitionSettling() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let report = try await importer(client).run(file: Self.fixture, options: .init())
            #expect(report.rowsAdded == 5022)
            let afterImport = try await RollupCheck.mismatches(client)
            #expect(afterImport == 0)
            var records: Int64 = -1
            for try await n in try await client.query("SELECT sum(records)::bigint FROM report.usage_hourly").decode(Int64.self) { records = n }
            #expect(records == 5022)
            // Rhetor's old months waited in the default partition; settling them moves rows, not totals.
            let waiting = try await count(client, "usage_records_default")
            let settled = try await ReportRepository(client: client).settleDefaultPartition(monthsAhead: 3, logger: logger)
            #expect(settled.isEmpty == (waiting == 0))
            #expect(try await count(client, "usage_records_default") == 0)
            let afterSettle = try await RollupCheck.mismatches(client)
            #expect(afterSettle == 0)
        }
    }
}
