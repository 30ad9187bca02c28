import BudgetAPI
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@Suite("API keys: with BUDGET_API_KEY set, /api/v1 answers only callers that present a key; with BUDGET_ADMIN_KEY, only administrators change the rules")
struct APIKeyTests {
    static let keys = ["first-key-0123456789", "second-key-0123456789"]

    @Test func aRequestWithoutAValidKeyIsA401AndChangesNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp(apiKeys: try #require(APIKeys(callers: Self.keys))) { client in
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

    static let administrators = ["admin-key-0123456789"]

    /// With BUDGET_ADMIN_KEY a caller's key spends, records and reads, but changing budgets,
    /// limits, resets, prices, aliases, webhooks and the compatibility routes' limits and tiers
    /// gets a 403 and changes nothing; the administrator's key does all of it.
    @Test func withAdministratorKeysOnlyThoseChangeTheRules() async throws {
        let harness = try await APITestHarness.make()
        let caller: HTTPFields = [.authorization: "Bearer \(Self.keys[0])"]
        let administrator: HTTPFields = [HTTPField.Name("X-API-Key")!: Self.administrators[0]]
        try await harness.withApp(apiKeys: try #require(APIKeys(callers: Self.keys, administrators: Self.administrators))) { client in
            let made = try await client.send(.post, "/api/v1/budgets", #"{"name":"ruled"}"#, headers: administrator)
            #expect(made.status == .created)
            let budget = try #require(made.string("id"))
            let limit = try await client.send(.post, "/api/v1/budgets/\(budget)/limits",
                                              #"{"scope":{"provider":"p"},"period":"daily","amount":"5","policy":"enforce"}"#, headers: administrator)
            #expect(limit.status == .created)
            let limitID = try #require(limit.string("id"))
            #expect(try await client.send(.put, "/api/v1/prices/p/m", #"{"input_per_token":"0.000001","output_per_token":"0.000002"}"#,
                                          headers: administrator).status == .ok)

            let rules: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/api/v1/budgets", #"{"name":"mine"}"#),
                (.patch, "/api/v1/budgets/\(budget)", #"{"active":false}"#),
                (.delete, "/api/v1/budgets/\(budget)", nil),
                (.post, "/api/v1/budgets/\(budget)/limits", #"{"scope":{},"period":"daily","amount":"1","policy":"warn"}"#),
                (.patch, "/api/v1/limits/\(limitID)", #"{"amount":"500"}"#),
                (.delete, "/api/v1/limits/\(limitID)", nil),
                (.post, "/api/v1/budgets/\(budget)/resets", #"{"limit_id":"\#(limitID)"}"#),
                (.put, "/api/v1/prices/p/m", #"{"input_per_token":"0","output_per_token":"0"}"#),
                (.delete, "/api/v1/prices/p/m", nil),
                (.post, "/api/v1/prices/sync", nil),
                (.put, "/api/v1/models/aliases/p/m2", #"{"model":"m"}"#),
                (.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"http://127.0.0.1:9/h","secret":"whsec-0123456789abcdef"}"#),
                (.post, "/api/v1/compat/rhetor/budget/limit", #"{"period":"daily","limit":1000}"#),
                (.post, "/api/v1/compat/rhetor/reset", #"{"period":"daily"}"#),
                (.put, "/api/v1/compat/apollo/limits", #"{"limit":1}"#),
                (.put, "/api/v1/compat/apollo/tiers/model/m", #"{"tier":"local_lightweight"}"#),
            ]
            for (method, path, body) in rules {
                let refused = try await client.send(method, path, body, headers: caller)
                #expect(refused.status == .forbidden && refused.code == "forbidden", "\(method) \(path): \(refused.status)")
                #expect(try await client.send(method, path, body).status == .unauthorized, "\(method) \(path) without a key")
            }

            // What callers do on the hot path and in reports stays theirs.
            let granted = try await client.send(.post, "/api/v1/allocations",
                                                #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"1"}}"#, headers: caller)
            #expect(granted.status == .created)
            let commit = try await client.send(.post, "/api/v1/allocations/\(try #require(granted.string("id")))/commit",
                                               #"{"usage":{"input_tokens":10}}"#, headers: caller)
            #expect(commit.status == .ok)
            #expect(try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1}}"#,
                                          headers: caller).status == .created)
            #expect(try await client.send(.get, "/api/v1/status?budget_id=\(budget)", headers: caller).status == .ok)
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/limits", headers: caller).status == .ok)
            #expect(try await client.send(.get, "/api/v1/usage", headers: administrator).status == .ok, "an administrator's key serves for reading too")
            #expect(try await client.send(.get, "/api/v1/usage").status == .unauthorized)
            return ()
        }
        #expect(try await harness.scalar("SELECT count(*)::text FROM budgets") == "1")
        #expect(try await harness.scalar("SELECT string_agg(amount::text, ',') FROM limits WHERE valid_to IS NULL") == "5")
        #expect(try await harness.scalar("SELECT count(*)::text FROM webhooks") == "0")
        #expect(try await harness.scalar("SELECT count(*)::text FROM apollo_tiers") == "0")
    }

    /// BUDGET_ADMIN_KEY alone: spending and reading stay open, changing the rules needs the key.
    @Test func administratorKeysAloneGuardOnlyTheRules() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp(apiKeys: try #require(APIKeys(callers: [], administrators: Self.administrators))) { client in
            let refused = try await client.send(.post, "/api/v1/budgets", #"{"name":"open"}"#)
            #expect(refused.status == .unauthorized && refused.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await client.send(.post, "/api/v1/budgets", #"{"name":"open"}"#, headers: [.authorization: "Bearer wrong-key-0123456789"]).status == .unauthorized)
            let made = try await client.send(.post, "/api/v1/budgets", #"{"name":"open"}"#, headers: [.authorization: "Bearer \(Self.administrators[0])"])
            #expect(made.status == .created)
            #expect(try await client.send(.get, "/api/v1/budgets").status == .ok)
            #expect(try await client.send(.post, "/api/v1/check", #"{"scope":{"provider":"p"},"estimate":{"cost_usd":"1"}}"#).status == .ok)
            return ()
        }
    }

    @Test func noKeysMeansAnOpenAPI() {
        #expect(APIKeys(callers: []) == nil)
        #expect(APIKeys(callers: [], administrators: []) == nil)
    }
}
