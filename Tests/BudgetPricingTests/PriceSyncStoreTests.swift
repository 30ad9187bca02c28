// A sync end to end: the real snapshots over HTTP into a real PostgreSQL.
import AsyncHTTPClient
import BudgetCore
import BudgetPricing
import BudgetStore
import BudgetTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@Suite("Price syncs write versions only on change, keep overrides, and record every run")
struct PriceSyncStoreTests {
    let logger = Logger(label: "PriceSyncStoreTests")

    func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String? {
        for try await value in try await client.query(query).decode(String?.self) { return value }
        return nil
    }

    @Test func firstSyncWritesVerifiedPricesAndASecondChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                let job = PriceSyncJob(sources: PriceSyncTests.sources(port: port), client: client, logger: logger)
                let first = try #require(try await job.run(dryRun: false, now: Fixture.instant))
                #expect(first.status == "succeeded")
                #expect(first.plan.changes.count > 20)
                #expect(try await scalar(client, "SELECT input_per_token::text FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o' AND effective_to IS NULL") == "0.0000025")
                #expect(try await scalar(client, "SELECT status FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o'") == "verified")
                let provenance = try await scalar(client, "SELECT provenance::text FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o'")
                #expect(provenance?.contains("litellm") == true)
                #expect(try await scalar(client, "SELECT count(*)::text FROM price_observations") != "0")
                // Regional variants are prices of their own, under the provider with its region.
                #expect(try await scalar(client, "SELECT input_per_token::text FROM prices WHERE provider_key = 'bedrock[us]' AND model_key = 'claude-sonnet-4-5-20250929' AND effective_to IS NULL") == "0.0000033")
                #expect(try await scalar(client, "SELECT input_per_token::text FROM prices WHERE provider_key = 'bedrock[global]' AND model_key = 'claude-sonnet-4-5-20250929' AND effective_to IS NULL") == "0.000003")
                let versionsAfterFirst = try await scalar(client, "SELECT count(*)::text FROM prices")

                let second = try #require(try await job.run(dryRun: false, now: Fixture.instant))
                #expect(second.plan.changes.isEmpty, "\(second.plan.changes.map(\.key))")
                #expect(second.plan.unchanged == first.plan.changes.count)
                #expect(second.outcomes.allSatisfy { $0.status == .notModified }, "every document answered 304")
                #expect(try await scalar(client, "SELECT count(*)::text FROM prices") == versionsAfterFirst)
                #expect(try await scalar(client, "SELECT count(*)::text FROM price_sync_runs") == "2")
            }
        }
    }

    /// genai-prices and llm-prices agree on deepseek-chat's $0.27/$1.10 (litellm, portkey and
    /// openrouter state older generations, which the full set of sources leaves in conflict); the
    /// off-peak hours genai-prices states come with that base into the price table, and the
    /// engine's catalog prices an off-peak call with them.
    @Test func offPeakHoursAreStoredWithTheBaseTheyCameWith() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                let sources = PriceSyncTests.sources(port: port).filter { ["genai_prices", "llm_prices"].contains($0.name) }
                let job = PriceSyncJob(sources: sources, client: client, logger: logger)
                #expect(try #require(try await job.run(dryRun: false, now: Fixture.instant)).status == "succeeded")
                let current = "FROM prices WHERE provider_key = 'deepseek' AND model_key = 'deepseek-chat' AND effective_to IS NULL"
                #expect(try await scalar(client, "SELECT input_per_token::text \(unescaped: current)") == "0.00000027")
                #expect(try await scalar(client, "SELECT times_of_day::text \(unescaped: current)")
                        == #"[{"end": "00:30", "input": "0.000000135", "start": "16:30", "output": "0.00000055", "cache_read": "0.000000035"}]"#)
                let price = try #require(try await PriceRepository(client: client).current(logger: logger)
                    .first { $0.key.provider == "deepseek" && $0.key.model == "deepseek-chat" }?.price)
                let offPeak = Date(timeIntervalSince1970: 1_795_291_200)   // 2026-11-22 20:00 UTC
                #expect(CostCalculator.cost(of: TokenUsage(input: 1_000_000, output: 0), at: price, madeAt: offPeak) == Decimal(string: "0.135"))
                let second = try #require(try await job.run(dryRun: false, now: Fixture.instant))
                #expect(second.plan.changes.isEmpty, "the windows compare equal to the stored ones")
            }
        }
    }

    @Test func theScheduleFetchesASourceOnlyWhenItsRefreshIntervalHasPassed() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                var sources = Array(PriceSyncTests.sources(port: port).prefix(2))
                sources[0].refreshSeconds = 3600       // litellm: hourly
                sources[1].refreshSeconds = 1          // genai_prices: every second
                let first = try #require(try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: false, onlyDue: true))
                #expect(first.outcomes.map(\.status) == [.fetched, .fetched])
                try await Task.sleep(for: .milliseconds(1100))
                let second = try #require(try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: false, onlyDue: true))
                let byName = Dictionary(uniqueKeysWithValues: second.outcomes.map { ($0.source, $0.status) })
                #expect(byName["litellm"] == .notDue)
                #expect(byName["genai_prices"] == .notModified, "due again, and answered 304")
                #expect(second.plan.changes.isEmpty, "a source that was not due still votes with what it said")
                let manual = try #require(try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: false))
                #expect(manual.outcomes.allSatisfy { $0.status == .notModified }, "a sync run by hand reads every source")
            }
        }
    }

    @Test func aManualOverrideWinsOverTheSources() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                _ = try await PriceRepository(client: client).setManual(
                    provider: "openai", model: "gpt-4o", input: Decimal(string: "0.000001")!, output: Decimal(string: "0.000002")!,
                    cacheRead: nil, cacheWrite: nil, reasoning: nil, by: "test", logger: logger)
                let job = PriceSyncJob(sources: PriceSyncTests.sources(port: port), client: client, logger: logger)
                let summary = try #require(try await job.run(dryRun: false, now: Fixture.instant))
                #expect(summary.plan.overridden >= 1)
                #expect(try await scalar(client, "SELECT input_per_token::text FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o' AND effective_to IS NULL") == "0.000001")
                #expect(try await scalar(client, "SELECT status FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o' AND effective_to IS NULL") == "manual")
            }
        }
    }

    @Test func aDryRunSaysWhatWouldChangeAndChangesNothing() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                let job = PriceSyncJob(sources: PriceSyncTests.sources(port: port), client: client, logger: logger)
                let summary = try #require(try await job.run(dryRun: true, now: Fixture.instant))
                #expect(!summary.plan.changes.isEmpty)
                #expect(try await scalar(client, "SELECT count(*)::text FROM prices") == "0")
                #expect(try await scalar(client, "SELECT count(*)::text FROM price_observations") == "0")
                #expect(try await scalar(client, "SELECT dry_run::text FROM price_sync_runs") == "true")
            }
        }
    }

    @Test func movingFromOneLiteLLMReleaseToTheNextWritesVersionsOnlyForChangedPrices() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        // What changed between the releases, computed from the files themselves.
        let old = Dictionary(try Fixture.litellm("1.85.1").observations.map { ($0.key, $0.prices) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(try Fixture.litellm("1.109.1").observations.map { ($0.key, $0.prices) }, uniquingKeysWith: { first, _ in first })
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            @Sendable func litellm(_ version: String) -> [PriceSourceConfig] {
                [PriceSourceConfig(name: "litellm", format: .litellm,
                                   url: "http://127.0.0.1:\(port)/files/litellm/\(version)/model_prices_and_context_window_backup.json",
                                   weight: Decimal(string: "0.30")!)]
            }
            try await withClient(endpoint) { client in
                _ = try await PriceSyncJob(sources: litellm("1.85.1"), client: client, logger: logger).run(dryRun: false, now: Fixture.instant)
                let after = try #require(try await PriceSyncJob(sources: litellm("1.109.1"), client: client, logger: logger).run(dryRun: false, now: Fixture.instant))
                let stored = Set(after.plan.changes.map(\.key))
                for change in after.plan.changes {
                    guard let before = old[change.key], let now = new[change.key] else { continue }
                    #expect(before != now, "\(change.key) got a new version although its prices did not change")
                }
                // Models priced identically in both releases got no new version, regional variants included.
                let identical = old.keys.filter { new[$0] == old[$0] && new[$0]?.input != nil }
                #expect(!identical.isEmpty)
                #expect(identical.contains { $0.region != nil })
                #expect(identical.allSatisfy { !stored.contains($0) })
            }
        }
    }

    @Test func whenEverySourceFailsTheRunIsFailedAndAnAlertIsRaised() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = self.logger
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                let sources = [PriceSourceConfig(name: "broken", format: .litellm, url: "http://127.0.0.1:\(port)/broken", weight: 1)]
                let summary = try #require(try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: false))
                #expect(summary.status == "failed")
                #expect(try await scalar(client, "SELECT status FROM price_sync_runs") == "failed")
                #expect(try await scalar(client, "SELECT count(*)::text FROM budget_events WHERE type = 'price_sync_failed'") == "1")
                #expect(try await scalar(client, "SELECT last_error FROM price_sources WHERE name = 'broken'")?.contains("500") == true)
            }
        }
    }
}

@Suite("An admin's model_aliases rows decide names before the built-in rules")
struct ModelAliasTableTests {
    @Test func anAliasRowRenamesWhatTheSourcesCallAModel() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = Logger(label: "ModelAliasTableTests")
        try await fixtureServer().test(.live) { http in
            let port = try #require(http.port)
            try await withClient(endpoint) { client in
                try await client.query("""
                    INSERT INTO model_aliases (provider, model, canonical_provider, canonical_model, note)
                    VALUES ('openai', 'gpt-4o', 'openai', 'gpt-4o-house-name', 'test')
                    """)
                let sources = [PriceSyncTests.sources(port: port)[0], PriceSyncTests.sources(port: port)[3]]  // litellm, langfuse
                _ = try await PriceSyncJob(sources: sources, client: client, logger: logger).run(dryRun: false, now: Fixture.instant)
                var models: [String] = []
                for try await model in try await client.query("SELECT model_key FROM prices WHERE provider_key = 'openai' AND model_key LIKE 'gpt-4o%' ORDER BY 1").decode(String.self) {
                    models.append(model)
                }
                // The row names one spelling (provider "openai", model "gpt-4o"): LiteLLM's entry is
                // filed under the house name; Langfuse, which names no provider, is not.
                #expect(models.contains("gpt-4o-house-name"))
                var provenance = ""
                for try await text in try await client.query("SELECT provenance::text FROM prices WHERE model_key = 'gpt-4o-house-name'").decode(String.self) {
                    provenance = text
                }
                #expect(provenance.contains("litellm"))
                #expect(!provenance.contains("langfuse"))
            }
        }
    }
}

@Suite("The bundled catalogue prices a fresh install before its first sync")
struct BundledCatalogueTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql/seed/price-catalogue.json")

    @Test func theBundledFileIsACatalogueWithProvenance() throws {
        let catalogue = try JSONDecoder().decode(PriceCatalogue.self, from: Data(contentsOf: Self.file))
        #expect(catalogue.prices.count > 1000)
        let gpt4o = try #require(catalogue.prices.first { $0.provider == "openai" && $0.model == "gpt-4o" })
        #expect(gpt4o.prices["input"] == "0.0000025")
        #expect(gpt4o.prices["output"] == "0.00001")
        #expect(gpt4o.status == "verified")
        #expect((gpt4o.provenance["input"]?.count ?? 0) >= 2)
        #expect(catalogue.prices.allSatisfy { $0.prices["input"] != nil && $0.prices["output"] != nil })
    }

    @Test func seedingFillsAnEmptyPriceTableOnceAndNeverOverwrites() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let logger = Logger(label: "BundledCatalogueTests")
        let catalogue = try JSONDecoder().decode(PriceCatalogue.self, from: Data(contentsOf: Self.file))
        let entries = String(decoding: try JSONEncoder().encode(catalogue.prices), as: UTF8.self)
        try await withClient(endpoint) { client in
            let repository = PriceRepository(client: client)
            #expect(try await repository.seedIfEmpty(catalogueEntries: entries, logger: logger) == catalogue.prices.count)
            #expect(try await repository.seedIfEmpty(catalogueEntries: entries, logger: logger) == 0)
            var input = ""
            for try await text in try await client.query("SELECT input_per_token::text FROM prices WHERE provider_key = 'openai' AND model_key = 'gpt-4o'").decode(String.self) {
                input = text
            }
            #expect(input == "0.0000025")
        }
        // A database that already has a price (here a manual one) is left alone.
        let other = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(other) { client in
            let repository = PriceRepository(client: client)
            _ = try await repository.setManual(provider: "p", model: "m", input: 1, output: 1, cacheRead: nil, cacheWrite: nil, reasoning: nil, by: nil, logger: logger)
            #expect(try await repository.seedIfEmpty(catalogueEntries: entries, logger: logger) == 0)
        }
    }
}
