import BudgetAPI
import BudgetCore
import BudgetPricing
import BudgetStore
import BudgetTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@Suite("Prices over HTTP: overrides win until removed (audited), listings, tiers, on-demand sync")
struct PricesAPITests {
    @Test func overrideAndItsRemovalReinstateTheSourcesPrice() async throws {
        let harness = try await APITestHarness.make()
        // A price the sources had set.
        try await harness.sql { client in
            try await client.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, status, source, provenance)
                VALUES ('openai', 'gpt-4o', 'openai', 'gpt-4o', 0.0000025, 0.00001, 'verified', 'sync', '{"input":[{"source":"litellm"}]}')
                """)
        }
        try await harness.withApp { client in
            let put = try await client.send(.put, "/api/v1/prices/openai/gpt-4o", #"{"input_per_token":"0.000001","output_per_token":"0.000002"}"#,
                                            headers: [HTTPField.Name("X-Budget-Actor")!: "alice"])
            #expect(put.status == .ok)
            #expect(put.string("status") == "manual")
            let listed = try await client.send(.get, "/api/v1/prices?provider=OpenAI")
            #expect(listed.items.count == 1)
            #expect(listed.items.first?["input_per_token"] as? String == "0.000001")
            #expect(listed.items.first?["status"] as? String == "manual")

            #expect(try await client.send(.delete, "/api/v1/prices/openai/gpt-4o", headers: [HTTPField.Name("X-Budget-Actor")!: "bob"]).status == .noContent)
            let current = try await client.send(.get, "/api/v1/prices?provider=openai&model=gpt-4o").items.first
            #expect(current?["status"] as? String == "verified")
            #expect(current?["input_per_token"] as? String == "0.0000025")
            #expect(try await client.send(.delete, "/api/v1/prices/openai/gpt-4o").status == .notFound, "no override left to remove")
        }
        #expect(try await harness.scalar("SELECT string_agg(action || ':' || actor, ',' ORDER BY id) FROM price_audit") == "override_set:alice,override_removed:bob")
        #expect(try await harness.scalar("SELECT count(*)::text FROM prices WHERE provider_key = 'openai'") == "3", "history keeps every version")
    }

    @Test func modelsAreGroupedIntoRhetorsTiers() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("ollama", "llama3", input: "0", output: "0")
            try await client.setPrice("openai", "gpt-4o-mini", input: "0.00000015", output: "0.0000006")   // $0.00075 / 1K
            try await client.setPrice("anthropic", "claude-sonnet-4-5", input: "0.000003", output: "0.000015") // $0.018 / 1K
            try await client.setPrice("anthropic", "claude-opus-4-1", input: "0.000015", output: "0.000075")   // $0.09 / 1K
            let tiers = try await client.send(.get, "/api/v1/models/tiers").json
            func models(_ tier: String) -> [String] { ((tiers[tier] as? [[String: any Sendable]]) ?? []).compactMap { $0["model"] as? String } }
            #expect(models("free") == ["llama3"])
            #expect(models("low") == ["gpt-4o-mini"])
            #expect(models("medium") == ["claude-sonnet-4-5"])
            #expect(models("high") == ["claude-opus-4-1"])
            let high = (tiers["high"] as? [[String: any Sendable]])?.first
            #expect(high?["cost_per_1k_tokens"] as? String == "0.09")
        }
    }

    @Test func listingFiltersAreChecked() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let bad = try await client.send(.get, "/api/v1/prices?status=cheap")
            #expect(bad.status == .badRequest)
            #expect(bad.field == "status")
            #expect(try await client.send(.get, "/api/v1/prices/conflicts").items.isEmpty)
            #expect(try await client.send(.get, "/api/v1/prices/sync-runs").items.isEmpty)
            let unavailable = try await client.send(.post, "/api/v1/prices/sync")
            #expect(unavailable.status == .serviceUnavailable, "this app was built without price sources")
        }
    }
}

@Suite("A caller's spelling of a model finds the price stored under its canonical name")
struct PriceNamingTests {
    @Test func dotsVersusDashesAndProviderPrefixesFindTheSamePrice() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("anthropic", "claude-3-5-sonnet", input: "0.000003", output: "0.000015")
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"10"}"#)
            for model in ["claude-3.5-sonnet", "anthropic/claude-3-5-sonnet"] {
                let reply = try await client.send(.post, "/api/v1/allocations",
                    #"{"scope":{"provider":"Anthropic","model":"\#(model)"},"estimate":{"input_tokens":1000,"max_output_tokens":1000}}"#)
                #expect(reply.status == .created, "\(model): \(reply.text)")
                #expect(reply.string("reserved_cost_usd") == "0.018", "\(model)")
            }
            let unknown = try await client.send(.post, "/api/v1/allocations",
                #"{"scope":{"provider":"anthropic","model":"claude-9-imaginary"},"estimate":{"input_tokens":1000}}"#)
            #expect(unknown.code == "price_unknown", "an unknown model is still not free")
        }
    }

    /// Bedrock's cross-region profiles cost more than the model in one region; each finds the
    /// price stored for its region (`bedrock[us]`), and a region without a price is unknown, not
    /// priced as the ordinary model.
    @Test func aRegionalProfileFindsItsRegionsPriceAndNeverTheOrdinaryOne() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("bedrock", "claude-sonnet-4-5-20250929", input: "0.000004", output: "0.00002")
            try await client.setPrice("bedrock%5Bus%5D", "claude-sonnet-4-5-20250929", input: "0.0000033", output: "0.0000165")
            try await client.setPrice("bedrock%5Bglobal%5D", "claude-sonnet-4-5-20250929", input: "0.000003", output: "0.000015")
            let listed = try await client.send(.get, "/api/v1/prices?provider=bedrock%5Bus%5D").items.compactMap { $0["provider"] as? String }
            #expect(listed.contains("bedrock[us]"))
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"10"}"#)
            for (model, cost) in [("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.0198"),
                                  ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.018"),
                                  ("anthropic.claude-sonnet-4-5-20250929-v1:0", "0.024")] {
                let reply = try await client.send(.post, "/api/v1/allocations",
                    #"{"scope":{"provider":"bedrock","model":"\#(model)"},"estimate":{"input_tokens":1000,"max_output_tokens":1000}}"#)
                #expect(reply.status == .created, "\(model): \(reply.text)")
                #expect(reply.string("reserved_cost_usd") == cost, "\(model)")
            }
            let elsewhere = try await client.send(.post, "/api/v1/allocations",
                #"{"scope":{"provider":"bedrock","model":"eu.anthropic.claude-sonnet-4-5-20250929-v1:0"},"estimate":{"input_tokens":1000}}"#)
            #expect(elsewhere.code == "price_unknown", "a region without a price is not priced as another")
        }
    }
}

@Suite("Repricing prices unpriced usage once and counts it in its dollar limits")
struct RepriceTests {
    @Test func unpricedUsageIsPricedOnceAndCounted() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"newco"},"period":"monthly","amount":"100","policy":"warn"}"#)
            for tokens in [1000, 2000] {
                let reply = try await client.send(.post, "/api/v1/usage",
                    #"{"occurred_at":"2026-11-20T10:00:00Z","scope":{"provider":"newco","model":"nova-1"},"usage":{"input_tokens":\#(tokens),"output_tokens":500}}"#)
                #expect(reply.string("pricing_status") == "unpriced")
            }
            // A dollar limit cannot count what has no price yet.
            #expect(try await client.send(.get, "/api/v1/status").items.first?["spent"] as? String == "0")
        }
        // The price arrives while no server runs (a server would price the records by itself:
        // UnpricedRepricingTests), so the command's way is what prices them here.
        try await harness.storePrice("newco", "nova-1", input: "0.000001", output: "0.000004")
        let from = try #require(InstantFormat.parse("2026-11-01T00:00:00Z")), to = try #require(InstantFormat.parse("2026-12-01T00:00:00Z"))
        try await harness.sql { client in
            let engine = BudgetEngine(client: client, logger: Logger(label: "RepriceTests"), naming: .canonicalNames)
            let dry = try await engine.reprice(from: from, to: to, dryRun: true, logger: Logger(label: "RepriceTests"))
            #expect(dry.repriced == 2)
            var unpriced = 0
            for try await count in try await client.query("SELECT count(*)::int FROM usage_records WHERE pricing_status = 'unpriced'").decode(Int.self) { unpriced = count }
            #expect(unpriced == 2, "a dry run changes nothing")

            let report = try await engine.reprice(from: from, to: to, dryRun: false, logger: Logger(label: "RepriceTests"))
            #expect(report.repriced == 2)
            // 1000 × 0.000001 + 500 × 0.000004 = 0.003;  2000 × 0.000001 + 500 × 0.000004 = 0.004
            #expect(report.totalCost == Decimal(string: "0.007"))
            let again = try await engine.reprice(from: from, to: to, dryRun: false, logger: Logger(label: "RepriceTests"))
            #expect(again.repriced == 0, "records are repriced once")
            var spent = ""
            for try await value in try await client.query("SELECT spent::text FROM limit_windows").decode(String.self) { spent = value }
            #expect(Decimal(string: spent) == Decimal(string: "0.007"))
        }
    }
}

@Suite("A running server prices unpriced usage by itself once its model has a price")
struct UnpricedRepricingTests {
    private static func spent(_ client: any TestClientProtocol) async throws -> String? {
        try await client.send(.get, "/api/v1/status").items.first?["spent"] as? String
    }

    /// A budget whose one limit warns at `amount` dollars a month spent on provider newco.
    private static func newcoBudget(_ client: any TestClientProtocol, amount: String) async throws {
        let budget = try await client.makeBudget()
        _ = try await client.makeLimit(budget, #"{"scope":{"provider":"newco"},"period":"monthly","amount":"\#(amount)","policy":"warn"}"#)
    }

    @Test func priceSetOverHTTPPricesThePastUsageOfThatModelOnceAndCountsIt() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await Self.newcoBudget(client, amount: "100")
            let now = InstantFormat.string(Date())
            for (model, tokens) in [("nova-1", 1000), ("nova-1", 2000), ("nova-2", 4000)] {
                let reply = try await client.send(.post, "/api/v1/usage",
                    #"{"occurred_at":"\#(now)","scope":{"provider":"newco","model":"\#(model)"},"usage":{"input_tokens":\#(tokens),"output_tokens":500}}"#)
                #expect(reply.string("pricing_status") == "unpriced")
            }
            // A record that names no model can never be priced; it stays as it is.
            let nameless = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"newco"},"usage":{"input_tokens":10}}"#)
            #expect(nameless.string("pricing_status") == "unpriced")
            #expect(try await Self.spent(client) == "0")

            try await client.setPrice("newco", "nova-1", input: "0.000001", output: "0.000004")
            // 1000 × 0.000001 + 500 × 0.000004 = 0.003;  2000 × 0.000001 + 500 × 0.000004 = 0.004
            let counted = try await eventually(30) { try await Self.spent(client) == "0.007" }
            let spentOnce = try await Self.spent(client)
            #expect(counted, "spent is \(spentOnce ?? "nil")")
            let ledger = try await client.send(.get, "/api/v1/usage?provider=newco&model=nova-1")
            #expect(ledger.items.count == 2)
            #expect(ledger.items.allSatisfy { $0["pricing_status"] as? String == "priced" && $0["price_id"] is String })
            #expect(Set(ledger.items.compactMap { $0["cost_usd"] as? String }) == ["0.003", "0.004"])
            let other = try await client.send(.get, "/api/v1/usage?provider=newco&model=nova-2")
            #expect(other.items.first?["pricing_status"] as? String == "unpriced", "a model without a price stays unpriced")

            // The next change of the catalog prices nova-2, and nova-1's records are not counted again.
            try await client.setPrice("newco", "nova-2", input: "0.000002", output: "0")
            let both = try await eventually(30) { try await Self.spent(client) == "0.015" }    // + 4000 × 0.000002
            let spentBoth = try await Self.spent(client)
            #expect(both, "spent is \(spentBoth ?? "nil")")
            try await Task.sleep(for: .milliseconds(600))   // three more maintenance rounds
            let spentLater = try await Self.spent(client)
            #expect(spentLater == "0.015")
        }
        #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records WHERE pricing_status = 'unpriced'") == "1")
        #expect(try await harness.sql { db in try await RollupCheck.mismatches(db) } == 0, "the rollups follow the repricing")
    }

    /// Several instances make the pass at once after the same price change: every record is
    /// priced by exactly one of them, and the dollar window counts each cost once.
    @Test func concurrentPassesPriceEachRecordOnce() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await Self.newcoBudget(client, amount: "1000")
            let now = InstantFormat.string(Date())
            for model in ["nova-a", "nova-b", "nova-c"] {
                // 1,200 records per model: more than one page (1,000) of the pass.
                let records = (1...1200).map { tokens in
                    #"{"occurred_at":"\#(now)","scope":{"provider":"newco","model":"\#(model)"},"usage":{"input_tokens":\#(tokens)}}"#
                }
                let reply = try await client.send(.post, "/api/v1/usage/batch", #"{"records":[\#(records.joined(separator: ","))]}"#)
                #expect(reply.status == .created || reply.status == .ok, "\(reply.text)")
            }
        }
        for model in ["nova-a", "nova-b", "nova-c"] { try await harness.storePrice("newco", model, input: "0.000001", output: "0") }
        let repriced = try await harness.sql { db in
            var logger = Logger(label: "UnpricedRepricingTests")
            logger.logLevel = .warning
            return try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { [logger] in
                        let engine = BudgetEngine(client: db, logger: logger, naming: .canonicalNames)
                        return try await engine.repriceUnpriced(logger: logger).repriced
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        #expect(repriced == 3600, "each record is counted by the one pass that priced it")
        // Σ tokens 1…1200 = 720,600 per model, at $0.000001 a token: 0.7206 per model.
        let spent = try await harness.scalar("SELECT spent::text FROM limit_windows")
        let ledger = try await harness.scalar("SELECT sum(cost_usd)::text FROM usage_records")
        #expect(spent.flatMap { Decimal(string: $0) } == Decimal(string: "2.1618"), "\(spent ?? "nil")")
        #expect(ledger.flatMap { Decimal(string: $0) } == Decimal(string: "2.1618"), "\(ledger ?? "nil")")
        #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records WHERE pricing_status = 'unpriced'") == "0")
    }

    @Test func aPriceThatArrivesWhileTheServerIsDownIsUsedWhenItStarts() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let reply = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"newco","model":"nova-3"},"usage":{"input_tokens":100}}"#)
            #expect(reply.string("pricing_status") == "unpriced")
        }
        try await harness.storePrice("newco", "nova-3", input: "0.00001", output: "0")
        try await harness.withApp { client in
            let priced = try await eventually(30) {
                try await client.send(.get, "/api/v1/usage?model=nova-3").items.first?["cost_usd"] as? String == "0.001"
            }
            #expect(priced)
        }
    }
}

@Suite("Usage is priced with the long-context tier and batch prices it falls under")
struct TierAndBatchUsageTests {
    @Test func tierAndBatchPricesReachTheLedger() async throws {
        let harness = try await APITestHarness.make()
        try await harness.sql { client in
            try await client.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token,
                                    batch_input_per_token, batch_output_per_token, status, source, context_tiers)
                VALUES ('google', 'gemini-2.5-pro', 'google', 'gemini-2.5-pro', 0.00000125, 0.00001, 0.000000625, 0.000005, 'verified', 'sync',
                        '[{"threshold_tokens": 200000, "input": "0.0000025", "output": "0.000015"}]')
                """)
        }
        try await harness.withApp { client in
            let long = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"google","model":"gemini-2.5-pro"},"usage":{"input_tokens":250000,"output_tokens":1000}}"#)
            #expect(long.string("cost_usd") == "0.64")      // 250000 × 0.0000025 + 1000 × 0.000015
            let batch = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"google","model":"gemini-2.5-pro"},"usage":{"input_tokens":1000,"output_tokens":1000},"batch":true}"#)
            #expect(batch.string("cost_usd") == "0.005625")  // 1000 × 0.000000625 + 1000 × 0.000005
            let plain = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"google","model":"gemini-2.5-pro"},"usage":{"input_tokens":1000,"output_tokens":1000}}"#)
            #expect(plain.string("cost_usd") == "0.01125")
            // The model's price shows what priced those calls.
            let current = try #require(try await client.send(.get, "/api/v1/prices/google/gemini-2.5-pro").json["current"] as? [String: any Sendable])
            #expect(current["batch_input_per_token"] as? String == "0.000000625" && current["batch_output_per_token"] as? String == "0.000005")
            let tier = try #require((current["context_tiers"] as? [[String: any Sendable]])?.first)
            #expect(tier["threshold_tokens"] as? Int == 200_000 && tier["input"] as? String == "0.0000025" && tier["cache_read"] == nil)
            #expect((current["times_of_day"] as? [Any])?.isEmpty == true)
        }
    }

    /// Batch usage recorded before its model had a price is priced at the batch rates when the
    /// price arrives (it was priced at the ordinary rates, twice the cost here).
    @Test func batchUsageKeepsItsBatchRatesWhenItIsPricedLater() async throws {
        let harness = try await APITestHarness.make()
        let scope = #""scope":{"provider":"google","model":"gemini-2.5-flash"}"#
        try await harness.withApp { client in
            let recorded = try await client.send(.post, "/api/v1/usage", #"{\#(scope),"usage":{"input_tokens":1000,"output_tokens":1000},"batch":true}"#)
            #expect(recorded.string("pricing_status") == "unpriced")
            #expect(recorded.json["batch"] as? Bool == true)
            // Through an allocation: the batched commit path writes the flag too.
            let allocation = try #require(try await client.send(.post, "/api/v1/allocations", #"{\#(scope),"estimate":{"cost_usd":"0.01"}}"#).string("id"))
            let committed = try await client.send(.post, "/api/v1/allocations/\(allocation)/commit",
                                                  #"{"usage":{"input_tokens":2000,"output_tokens":0},"batch":true}"#)
            #expect(committed.string("pricing_status") == "unpriced")
            let ordinary = try await client.send(.post, "/api/v1/usage", #"{\#(scope),"usage":{"input_tokens":1000,"output_tokens":1000}}"#)
            #expect(ordinary.json["batch"] as? Bool == false)
        }
        try await harness.sql { client in
            try await client.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token,
                                    batch_input_per_token, batch_output_per_token, status, source)
                VALUES ('google', 'gemini-2.5-flash', 'google', 'gemini-2.5-flash', 0.0000003, 0.0000025, 0.00000015, 0.00000125, 'verified', 'sync')
                """)
            let logger = Logger(label: "TierAndBatchUsageTests")
            #expect(try await BudgetEngine(client: client, logger: logger).repriceUnpriced(logger: logger).repriced == 3)
            var costs: [String] = []
            for try await (cost, batch) in try await client.query("SELECT cost_usd::text, batch FROM usage_records ORDER BY input_tokens, batch")
                .decode((String, Bool).self) {
                costs.append("\(batch ? "batch" : "ordinary") \(cost)")
            }
            #expect(costs.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["ordinary", "batch", "batch"])
            // 1000 × 0.0000003 + 1000 × 0.0000025; 1000 × 0.00000015 + 1000 × 0.00000125; 2000 × 0.00000015
            #expect(costs.compactMap { $0.split(separator: " ").last.flatMap { Decimal(string: String($0)) } }
                    == [Decimal(string: "0.0028"), Decimal(string: "0.0014"), Decimal(string: "0.0003")].compactMap { $0 })
        }
    }
}

@Suite("Usage priced by a version found wrong is repriced, and its limits get the difference")
struct RepriceWrongVersionTests {
    @Test func aWrongVersionIsReplacedInTheLedgerAndTheWindows() async throws {
        let harness = try await APITestHarness.make()
        let wrongVersion: String = try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"acme"},"period":"monthly","amount":"100"}"#)
            let wrong = try await client.send(.put, "/api/v1/prices/acme/rocket", #"{"input_per_token":"0.00001","output_per_token":"0.00003"}"#)
            let recorded = try await client.send(.post, "/api/v1/usage",
                #"{"occurred_at":"2026-11-20T10:00:00Z","scope":{"provider":"acme","model":"rocket"},"usage":{"input_tokens":1000,"output_tokens":1000}}"#)
            #expect(recorded.string("cost_usd") == "0.04")
            #expect(try await client.send(.get, "/api/v1/status").items.first?["spent"] as? String == "0.04")
            try await client.setPrice("acme", "rocket", input: "0.000001", output: "0.000003")   // the correct price
            return try #require(wrong.string("id"))
        }
        let from = try #require(InstantFormat.parse("2026-11-01T00:00:00Z")), to = try #require(InstantFormat.parse("2026-12-01T00:00:00Z"))
        try await harness.sql { client in
            let logger = Logger(label: "RepriceWrongVersionTests")
            let engine = BudgetEngine(client: client, logger: logger, naming: .canonicalNames)
            // Without naming the version, nothing is repriced: the records are not unpriced.
            #expect(try await engine.reprice(from: from, to: to, dryRun: false, logger: logger).repriced == 0)
            let report = try await engine.reprice(from: from, to: to, wrongVersion: UUID(uuidString: wrongVersion), dryRun: false, logger: logger)
            #expect(report.repriced == 1)
            #expect(report.totalCost == Decimal(string: "-0.036"))   // 0.004 - 0.04
            #expect(try await engine.reprice(from: from, to: to, wrongVersion: UUID(uuidString: wrongVersion), dryRun: false, logger: logger).repriced == 0)
            var cost = "", spent = ""
            for try await value in try await client.query("SELECT cost_usd::text FROM usage_records").decode(String.self) { cost = value }
            for try await value in try await client.query("SELECT spent::text FROM limit_windows").decode(String.self) { spent = value }
            #expect(Decimal(string: cost) == Decimal(string: "0.004"))
            #expect(Decimal(string: spent) == Decimal(string: "0.004"))
        }
    }
}

@Suite("Provider token conventions and admin aliases on the way in")
struct ReportedUsageTests {
    @Test func openAIStyleCountsAreNormalisedBeforePricing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("openai", "gpt-4o", input: "0.0000025", output: "0.00001")
            // OpenAI: prompt_tokens 1000 of which 400 cached; completion_tokens 500 of which 200 reasoning.
            let reply = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"openai","model":"gpt-4o"},"usage":{"input_tokens":1000,"cache_read_tokens":400,"output_tokens":500,"reasoning_tokens":200,"reported_as":"openai"}}"#)
            let usage = reply.json["usage"] as? [String: any Sendable]
            #expect(usage?["input_tokens"] as? Int == 600)
            #expect(usage?["cache_read_tokens"] as? Int == 400)
            // 600 × 0.0000025 + 400 × 0.0000025 (no cache price: input price) + 500 × 0.00001
            #expect(reply.string("cost_usd") == "0.0075")
            let impossible = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"openai","model":"gpt-4o"},"usage":{"input_tokens":10,"cache_read_tokens":400,"reported_as":"openai"}}"#)
            #expect(impossible.status == .badRequest)
            let unknown = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"openai","model":"gpt-4o"},"usage":{"input_tokens":10,"reported_as":"cohere"}}"#)
            #expect(unknown.field == "usage.reported_as")
        }
    }

    @Test func anAdminAliasNamesACallersModel() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("acme", "rocket-2026-01", input: "0.000001", output: "0.000002")
            let alias = try await client.send(.put, "/api/v1/models/aliases/acme/rocket-prod", #"{"canonical_model":"rocket-2026-01","note":"prod pin"}"#)
            #expect(alias.status == .ok)
            #expect(try await client.send(.get, "/api/v1/models/aliases").items.count == 1)
            #expect(try await client.send(.put, "/api/v1/models/aliases/acme/x", #"{"note":"no target"}"#).field == "canonical_model")
            let reply = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"ACME","model":"rocket-prod"},"usage":{"input_tokens":1000,"output_tokens":1000}}"#)
            #expect(reply.string("pricing_status") == "priced", "the alias change reached the cached catalog")
            #expect(reply.string("cost_usd") == "0.003")
            #expect(try await client.send(.delete, "/api/v1/models/aliases/acme/rocket-prod").status == .noContent)
            let after = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"acme","model":"rocket-prod"},"usage":{"input_tokens":1}}"#)
            #expect(after.string("pricing_status") == "unpriced")
        }
    }
}
