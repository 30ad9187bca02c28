import BudgetCore
import BudgetImport
import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("budget import apollo-policies: Apollo's budget_policies.json as limits of the apollo budget")
struct ApolloPolicyImportTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/apollo/budget_policies.json").path
    let logger = Logger(label: "ApolloPolicyImportTests")

    static func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        for try await value in try await client.query(query).decode(String?.self) { return value }
        return nil
    }

    @Test func importsEachPolicyAsATokenLimitAndASecondImportChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await withClient(endpoint) { client in
            let importer = ApolloPolicyImporter(client: client)
            let first = try await importer.importFile(at: Self.fixture, logger: logger)
            #expect(first.policies == 4)
            #expect(first.summary.created == 4 && first.summary.updated == 0 && first.summary.unchanged == 0)

            let hard = try await Self.scalar(client, """
                SELECT concat_ws('|', l.policy, l.metric, l.tier, l.component, l.period, l.amount::text, l.warn_at::text, b.name)
                FROM apollo_policies p JOIN limits l ON l.id = p.limit_id AND l.valid_to IS NULL JOIN budgets b ON b.id = l.budget_id
                WHERE p.policy_id = '0b9d8c7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e'
                """)
            #expect(hard == "enforce|tokens|remote_heavyweight|ergon|daily|50000|0.75|apollo")
            let soft = try await Self.scalar(client, """
                SELECT concat_ws('|', l.policy, l.task_type, l.period, p.policy_type) FROM apollo_policies p JOIN limits l ON l.id = p.limit_id
                WHERE p.policy_id = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f'
                """)
            #expect(soft == "warn|chat|per_session|soft_limit")
            let disabled = try await Self.scalar(client, """
                SELECT concat_ws('|', l.policy, p.enabled::text, (p.end_date IS NOT NULL)::text) FROM apollo_policies p JOIN limits l ON l.id = p.limit_id
                WHERE p.policy_id = '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b'
                """)
            #expect(disabled == "ignore|false|true")

            let rowsBefore = try await Self.scalar(client, "SELECT (SELECT count(*) FROM limits)::text || '/' || (SELECT generation FROM catalog_generation)::text")
            let second = try await importer.importFile(at: Self.fixture, logger: logger)
            #expect(second.summary.created == 0 && second.summary.updated == 0 && second.summary.unchanged == 4)
            let rowsAfter = try await Self.scalar(client, "SELECT (SELECT count(*) FROM limits)::text || '/' || (SELECT generation FROM catalog_generation)::text")
            #expect(rowsBefore == rowsAfter)
        }
    }

    @Test func aChangedPolicyBecomesANewVersionOfItsLimit() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await withClient(endpoint) { client in
            let importer = ApolloPolicyImporter(client: client)
            _ = try await importer.importFile(at: Self.fixture, logger: logger)
            let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\"limit\": 50000", with: "\"limit\": 60000")
            let changed = FileManager.default.temporaryDirectory.appendingPathComponent("apollo-\(UUID().uuidString).json")
            try text.write(to: changed, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: changed) }
            let report = try await importer.importFile(at: changed.path, logger: logger)
            #expect(report.summary.updated == 1 && report.summary.unchanged == 3)
            let versions = try await Self.scalar(client, """
                SELECT string_agg(l.version::text || ':' || l.amount::text || ':' || (l.valid_to IS NULL)::text, ',' ORDER BY l.version)
                FROM apollo_policies p JOIN limits l ON l.id = p.limit_id WHERE p.policy_id = '0b9d8c7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e'
                """)
            #expect(versions == "1:50000:false,2:60000:true")
        }
    }

    @Test func aFileThatIsNotAPolicyFileIsRefusedAndChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await withClient(endpoint) { client in
            let importer = ApolloPolicyImporter(client: client)
            let cases: [(String, String)] = [
                (#"{"usage_records": 3}"#, "not an Apollo policy file"),
                ("not json at all", "not JSON"),
                (#"[{"policy_id":"x","type":"warn","period":"daily","tier":"gigantic","limit":5}]"#, "tier"),
                (#"[{"policy_id":"x","type":"warn","period":"daily","tier":"local_midweight","limit":5},{"policy_id":"x","type":"warn","period":"hourly","tier":"local_midweight","limit":5}]"#, "appears twice"),
            ]
            for (content, words) in cases {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("apollo-\(UUID().uuidString).json")
                try content.write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                do {
                    _ = try await importer.importFile(at: file.path, logger: logger)
                    Issue.record("\(content) was imported")
                } catch let error as ImportError {
                    #expect(error.code == .invalidPolicyFile)
                    #expect(error.message.contains(words), "\(error.message)")
                }
            }
            let budgets = try await Self.scalar(client, "SELECT count(*)::text FROM budgets")
            let limits = try await Self.scalar(client, "SELECT count(*)::text FROM limits")
            #expect(budgets == "0" && limits == "0")
        }
    }

    @Test func camelCaseKeysAndAPolicyMapAreAccepted() throws {
        let camel = #"{"policies":[{"policyId":"a","type":"hard_limit","period":"hourly","tier":"local_lightweight","limit":7,"taskType":"coding"}]}"#
        let policies = try ApolloPolicyImporter.parse(Data(camel.utf8))
        #expect(policies.map(\.policyID) == ["a"] && policies.first?.taskType == "coding")
        let keyed = #"{"b":{"type":"warn","period":"daily","tier":"local_midweight","limit":9}}"#
        let keyedPolicies = try ApolloPolicyImporter.parse(Data(keyed.utf8))
        #expect(keyedPolicies.first?.policyID == "b")
    }

    @Test func aPolicyFileReplacesTheDefaultsTheCompatibilityAPISeeded() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await withClient(endpoint) { client in
            _ = try await ApolloCompatRepository(client: client).ensureBudget(seedDefaults: true, logger: logger)
            let seeded = try await Self.scalar(client, "SELECT count(*)::text FROM limits WHERE valid_to IS NULL")
            #expect(seeded == "9")
            let report = try await ApolloPolicyImporter(client: client).importFile(at: Self.fixture, logger: logger)
            #expect(report.summary.defaultsRetired == 9 && report.summary.created == 4)
            let current = try await Self.scalar(client, "SELECT count(*)::text FROM limits WHERE valid_to IS NULL")
            let mapped = try await Self.scalar(client, "SELECT count(*)::text FROM apollo_policies")
            #expect(current == "4" && mapped == "4")
        }
    }
}
