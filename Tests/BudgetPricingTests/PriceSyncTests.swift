// The sync pipeline against the real catalogue snapshots, served over HTTP on loopback.
import AsyncHTTPClient
import BudgetPricing
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Serves Tests/Fixtures/pricing over HTTP, with ETags, plus sources that fail in each way.
func fixtureServer() -> some ApplicationProtocol {
    let router = Router()
    router.get("files/**") { request, context -> Response in
        let path = context.parameters.getCatchAll().joined(separator: "/")
        guard !path.contains(".."), let data = try? Fixture.data(path) else { return Response(status: .notFound) }
        let etag = "\"\(data.count)-\(path.hashValue & 0xffff)\""
        if request.headers[.ifNoneMatch] == etag {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: etag], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    router.get("broken") { _, _ in Response(status: .internalServerError) }
    router.get("garbage") { _, _ in
        Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html>not a catalogue")))
    }
    router.get("hang") { _, _ -> Response in
        try await Task.sleep(for: .seconds(5))
        return Response(status: .ok)
    }
    var logger = Logger(label: "fixture-server")
    logger.logLevel = .warning
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
}

@Suite("A price sync fetches every source over HTTP, survives broken ones, and verifies across them")
struct PriceSyncTests {
    static func sources(port: Int) -> [PriceSourceConfig] {
        let base = "http://127.0.0.1:\(port)/files"
        return [
            PriceSourceConfig(name: "litellm", format: .litellm, url: "\(base)/litellm/1.109.1/model_prices_and_context_window_backup.json", weight: Decimal(string: "0.30")!),
            PriceSourceConfig(name: "genai_prices", format: .genaiPrices, url: "\(base)/genai-prices/v2/data.json", weight: Decimal(string: "0.20")!),
            PriceSourceConfig(name: "portkey", format: .portkey, url: "\(base)/portkey/pricing/{provider}.json", weight: Decimal(string: "0.15")!,
                              providers: ["openai", "anthropic"]),
            PriceSourceConfig(name: "langfuse", format: .langfuse, url: "\(base)/langfuse/default-model-prices.json", weight: Decimal(string: "0.15")!),
            PriceSourceConfig(name: "llm_prices", format: .llmPrices, url: "\(base)/llm-prices/current-v1.json", weight: Decimal(string: "0.10")!),
            PriceSourceConfig(name: "openrouter", format: .openrouter, url: "\(base)/openrouter/models.json", weight: Decimal(string: "0.10")!),
        ]
    }

    static func sync(_ sources: [PriceSourceConfig]) throws -> PriceSync {
        try PriceSync(sources: sources, fetcher: PriceFetcher(), logger: Logger(label: "PriceSyncTests"))
    }

    @Test func syncsAllSixFormatsAndAgreesOnCommonModels() async throws {
        try await fixtureServer().test(.live) { client in
            let port = try #require(client.port)
            let report = try await Self.sync(Self.sources(port: port)).run(current: [:], now: Fixture.instant)
            #expect(report.outcomes.map(\.status) == Array(repeating: .fetched, count: 6), "\(report.outcomes)")
            #expect(report.outcomes.allSatisfy { $0.observations > 0 })
            let gpt4o = try #require(report.results.values.first { $0.key.provider == "openai" && $0.key.model == "gpt-4o" && $0.key.region == nil })
            #expect(gpt4o.status == .verified)
            #expect(gpt4o.accepted[.input] == Decimal(string: "0.0000025"))
            #expect(gpt4o.accepted[.output] == Decimal(string: "0.00001"))
            // No current prices yet: every verified model is a change to write.
            #expect(report.changes.contains { $0.key == gpt4o.key })
        }
    }

    @Test func aFailingSourceIsRecordedAndTheOthersGoOn() async throws {
        try await fixtureServer().test(.live) { client in
            let port = try #require(client.port)
            var sources = Array(Self.sources(port: port).prefix(2))
            sources.append(PriceSourceConfig(name: "broken", format: .litellm, url: "http://127.0.0.1:\(port)/broken", weight: 1))
            sources.append(PriceSourceConfig(name: "garbage", format: .langfuse, url: "http://127.0.0.1:\(port)/garbage", weight: 1))
            sources.append(PriceSourceConfig(name: "hangs", format: .openrouter, url: "http://127.0.0.1:\(port)/hang", weight: 1, timeoutSeconds: 2))
            let started = ContinuousClock.now
            let report = try await Self.sync(sources).run(current: [:], now: Fixture.instant)
            #expect(ContinuousClock.now - started < .seconds(10), "a hanging source is cut off by its timeout")
            let byName = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.source, $0) })
            #expect(byName["litellm"]?.status == .fetched)
            #expect(byName["genai_prices"]?.status == .fetched)
            #expect(byName["broken"]?.status == .failed)
            #expect(byName["broken"]?.error?.contains("500") == true)
            #expect(byName["garbage"]?.status == .failed)
            #expect(byName["hangs"]?.status == .failed)
            #expect(byName["hangs"]?.error?.contains("in time") == true)
            #expect(!report.results.isEmpty)
        }
    }

    @Test func anUnchangedDocumentIsNotDownloadedTwice() async throws {
        try await fixtureServer().test(.live) { client in
            let port = try #require(client.port)
            let sources = [Self.sources(port: port)[3]]   // langfuse
            let sync = try Self.sync(sources)
            let first = try await sync.run(current: [:], now: Fixture.instant)
            let validators = first.outcomes[0].validators
            #expect(validators.values.first?.etag != nil)
            let cached = [sources[0].url: first.observations]
            let second = try await sync.run(current: [:], validators: validators, cached: cached, now: Fixture.instant)
            #expect(second.outcomes[0].status == .notModified)
            #expect(second.observations.count == first.observations.count, "a 304 reuses what was parsed last time")
        }
    }

    @Test func aRateLimitedSourceSpacesItsDocuments() async throws {
        try await fixtureServer().test(.live) { client in
            let port = try #require(client.port)
            var portkey = Self.sources(port: port)[2]          // two documents: openai, anthropic
            portkey.requestsPerMinute = 60                     // one a second
            let started = ContinuousClock.now
            let report = try await Self.sync([portkey]).run(current: [:], now: Fixture.instant)
            #expect(report.outcomes[0].status == .fetched)
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
    }

    @Test func theSourcesFileReplacesTheBuiltInList() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sources-\(UUID()).json")
        try Data(#"[{"name":"mirror","format":"litellm","url":"http://127.0.0.1:1/prices.json","weight":"0.5","lineage":null,"refresh_seconds":3600,"enabled":true,"timeout_seconds":5,"requests_per_minute":10}]"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let sources = try PriceSourceConfig.load(file: file.path)
        #expect(sources.map(\.name) == ["mirror"])
        #expect(sources[0].weight == Decimal(string: "0.5"))
        #expect(sources[0].timeoutSeconds == 5)
        #expect(sources[0].requestsPerMinute == 10)
        #expect(try PriceSourceConfig.load(file: nil).map(\.name).sorted() == ["genai_prices", "langfuse", "litellm", "llm_prices", "openrouter", "portkey"])
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).json")
        try Data(#"[{"name":"x","format":"excel","url":"u","weight":1}]"#.utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        #expect(throws: (any Error).self) { try PriceSourceConfig.load(file: bad.path) }
    }
}
