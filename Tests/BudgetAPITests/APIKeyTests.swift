import BudgetAPI
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@Suite("API keys: with BUDGET_API_KEY set, /api/v1 answers only callers that present a key")
struct APIKeyTests {
    static let keys = ["first-key-0123456789", "second-key-0123456789"]

    @Test func aRequestWithoutAValidKeyIsA401AndChangesNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp(apiKeys: try #require(APIKeys(Self.keys))) { client in
            let budget = #"{"name":"guarded"}"#
            let missing = try await client.send(.post, "/api/v1/budgets", budget)
            #expect(missing.status == .unauthorized)
            #expect(missing.code == "unauthorized")
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            for wrong: HTTPFields in [[.authorization: "Bearer first-key-012345678"], [.authorization: "Basic Zmlyc3Qta2V5"],
                                      [HTTPField.Name("X-API-Key")!: "first-key-0123456789x"], [.authorization: "first-key-0123456789"]] {
                let refused = try await client.send(.post, "/api/v1/budgets", budget, headers: wrong)
                #expect(refused.status == .unauthorized, "\(wrong)")
            }
            // Probes stay open (readiness may still say the database is slow: a 503, not a 401).
            #expect(try await client.send(.get, "/health").status == .ok)
            let ready = try await client.send(.get, "/ready")
            #expect(ready.status != .unauthorized && ready.code != "unauthorized")

            let created = try await client.send(.post, "/api/v1/budgets", budget, headers: [.authorization: "Bearer \(Self.keys[0])"])
            #expect(created.status == .created)
            let listed = try await client.send(.get, "/api/v1/budgets", headers: [HTTPField.Name("X-API-Key")!: Self.keys[1]])
            #expect(listed.status == .ok && listed.items.count == 1)
            let compat = try await client.send(.get, "/api/v1/compat/apollo/limits", headers: [.authorization: "bearer \(Self.keys[1])"])
            #expect(compat.status == .ok)
            #expect(try await client.send(.get, "/api/v1/compat/apollo/limits").status == .unauthorized)
            return ()
        }
        #expect(try await harness.scalar("SELECT count(*)::text FROM budgets") == "1")
    }

    @Test func noKeysMeansAnOpenAPI() {
        #expect(APIKeys([]) == nil)
    }
}
