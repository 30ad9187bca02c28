import BudgetAPI
import BudgetImport
import BudgetTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// The whole switch-over: Rhetor's database imported, then Rhetor pointed at Budget's
/// compatibility routes sees its own settings and history — and its global limits now count.
@Suite("After the import, Rhetor's compatibility routes answer from the imported settings and ledger")
struct RhetorMigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rhetor/rhetor_budget_export.db").path

    @Test func importedSettingsAndUsageAreWhatRhetorSeesThroughTheCompatibilityRoutes() async throws {
        let harness = try await APITestHarness.make()
        let report = try await harness.sql { client in
            try await RhetorImporter(client: client, scripts: try ImportScripts.rhetor(sqlDirectory: TestDatabaseServer.sqlDirectory),
                                     logger: Logger(label: "BudgetAPITests")).run(file: Self.fixture, options: .init())
        }
        #expect(report.rowsAdded == 5022)
        try await harness.withApp { client in
            let settings = try await client.send(.get, "/api/v1/compat/rhetor/budget/settings")
            #expect(settings.status == .ok)
            func active(_ period: String) -> [String] {
                ((settings.json[period] as? [[String: any Sendable]]) ?? []).map { row in
                    "\(row["provider"] ?? "?") \(row["limit_amount"] ?? "?") \(row["enforcement"] ?? "?")"
                }.sorted()
            }
            #expect(active("daily") == ["all 30 warn", "anthropic 4.5 enforce"])
            #expect(active("weekly") == ["all 120 warn", "anthropic 18 enforce"])
            #expect(active("monthly") == ["all 400 ignore", "openai 60 warn"])

            // The imported ledger rows are Rhetor's usage history (the routes' periods are relative to
            // today, so this looks at the ledger listing, which is not).
            let usage = try await client.send(.get, "/api/v1/usage?from=2026-10-12T19:42:00Z&to=2026-10-12T19:43:00Z")
            #expect(usage.items.contains { ($0["request_id"] as? String) == "rhetor:2763" && ($0["origin"] as? String) == "rhetor_import" })
        }
    }
}
