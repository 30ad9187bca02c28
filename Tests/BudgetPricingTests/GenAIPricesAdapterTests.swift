// Tests for the genai-prices v2 adapter: dated, time-of-day and tiered prices.
import BudgetCore
import Foundation
import Testing
import BudgetPricing

@Suite("genai-prices adapter")
struct GenAIPricesAdapterTests {
    @Test("dated conditional prices: o3 before and after the 2025-06-10 cut")
    func datedPrices() throws {
        let now = try Fixture.genai().require(key("openai", "o3"))
        #expect(now.input == perMillion("2") && now.output == perMillion("8"))
        let early = try Fixture.genai(at: Date(timeIntervalSince1970: 1_735_732_800)).require(key("openai", "o3"))
        #expect(early.input == perMillion("10") && early.output == perMillion("40"))
    }

    @Test("time-of-day prices: DeepSeek's peak rate (00:30–16:30 UTC) is the base whatever the hour of the sync, the off-peak hours a window")
    func timeOfDay() throws {
        // The base is the higher of the peak and off-peak rates, so that a sync in the off-peak
        // hours neither prices the day's calls at the discount nor moves the price; the other
        // hours ride with it, from the end of the peak to its start (past midnight).
        let atNoon = try Fixture.genai().require(key("deepseek", "deepseek-chat"))            // 12:00 UTC
        #expect(atNoon.input == perMillion("0.27") && atNoon.output == perMillion("1.1"))
        #expect(atNoon.prices.timesOfDay == [TimeOfDayPrice(start: 16 * 3600 + 30 * 60, end: 30 * 60, input: perMillion("0.135"),
                                                            output: perMillion("0.55"), cacheRead: perMillion("0.035"))])
        let inTheEvening = try Fixture.genai(at: Date(timeIntervalSince1970: 1_795_291_200))  // 20:00 UTC
            .require(key("deepseek", "deepseek-chat"))
        #expect(inTheEvening.prices == atNoon.prices)
        let reasoner = try Fixture.genai(at: Date(timeIntervalSince1970: 1_795_291_200)).require(key("deepseek", "deepseek-reasoner"))
        #expect(reasoner.input == perMillion("0.55") && reasoner.output == perMillion("2.19") && reasoner.cacheRead == perMillion("0.14"))
        #expect(reasoner.prices.timesOfDay.map(\.output) == [perMillion("0.55")])
        // Models without time-of-day entries have no windows.
        #expect(try Fixture.genai().require(key("openai", "o3")).prices.timesOfDay.isEmpty)
    }

    @Test("a time-of-day entry cheaper than the base is a window of its own; overlapping ones give none")
    func cheaperHours() throws {
        let adapter = PriceSource.GenAIPrices(evaluatedAt: Date(timeIntervalSince1970: 1_795_291_200))
        func prices(_ list: String) throws -> PriceSet {
            let document = #"[{"id": "acme", "models": [{"id": "acme-1", "prices": "# + list + "}]}]"
            let result = try adapter.parse(Data(document.utf8), provider: nil)
            return try #require(result.observations.first).prices
        }
        let night = try prices(#"[{"prices": {"input_mtok": 2, "output_mtok": 8}},"#
            + #" {"constraint": {"start_time": "22:00:00Z", "end_time": "06:00:00Z"}, "prices": {"input_mtok": 1, "output_mtok": 8}}]"#)
        #expect(night.input == perMillion("2"))
        #expect(night.timesOfDay == [TimeOfDayPrice(start: 22 * 3600, end: 6 * 3600, input: perMillion("1"), output: perMillion("8"))])
        let overlapping = try prices(#"[{"prices": {"input_mtok": 2, "output_mtok": 8}},"#
            + #" {"constraint": {"start_time": "22:00:00Z", "end_time": "06:00:00Z"}, "prices": {"input_mtok": 1, "output_mtok": 8}},"#
            + #" {"constraint": {"start_time": "05:00:00Z", "end_time": "07:00:00Z"}, "prices": {"input_mtok": 1.5, "output_mtok": 8}}]"#)
        #expect(overlapping.input == perMillion("2") && overlapping.timesOfDay.isEmpty)
    }

    @Test("tiered values give the base price and a context tier")
    func tiered() throws {
        let sonnet = try Fixture.genai().require(key("anthropic", "claude-sonnet-4-5"))
        #expect(sonnet.input == perMillion("3"))
        #expect(sonnet.cacheWrite == perMillion("3.75"))
        #expect(sonnet.contextTiers == [ContextTierPrice(thresholdTokens: 200_000, input: perMillion("6"), output: perMillion("22.5"),
                                                         cacheRead: perMillion("0.6"), cacheWrite: perMillion("7.5"))])
        // From 2026-03-13 Sonnet 4.6 is flat across its 1M context.
        #expect(try Fixture.genai().require(key("anthropic", "claude-sonnet-4-6")).contextTiers.isEmpty)
    }

    @Test("exact `equals` names of a match clause are observed too")
    func equalsNames() throws {
        let result = try Fixture.genai()
        let latest = try result.require(key("mistral", "mistral-large-latest"))
        #expect(latest.rawModel == "mistral-large-latest")
        #expect(latest.input == perMillion("2") && latest.output == perMillion("6"))
        #expect(latest.canonical.kind == .alias(of: "mistral-large"))
        #expect(try result.require(key("mistral", "mistral-large-2411")).input == perMillion("2"))
        #expect(try result.require(key("xai", "grok-4")).rawModel == "grok-4")   // listed under grok-4-0709
        #expect(try result.require(key("cohere", "command-r-plus-08-2024")).output == perMillion("10"))
    }

    @Test("AWS regional profiles keep their region")
    func awsRegions() throws {
        let result = try Fixture.genai()
        let regional = try result.require(key("bedrock", "claude-sonnet-4-5-20250929", region: "regional"))
        let global = try result.require(key("bedrock", "claude-sonnet-4-5-20250929", region: "global"))
        #expect(regional.input == perMillion("3.3"))
        #expect(global.input == perMillion("3"))
    }

    @Test("malformed documents throw; malformed models are skipped")
    func malformed() throws {
        let adapter = PriceSource.GenAIPrices(evaluatedAt: Fixture.instant)
        #expect(throws: PriceSourceError.unexpectedShape(path: "$", expected: "array of providers", found: "object")) {
            try adapter.parse(Data("{}".utf8))
        }
        #expect(throws: PriceSourceError.unexpectedShape(path: "$[0].models", expected: "array", found: "missing")) {
            try adapter.parse(Data(#"[{"id": "openai"}]"#.utf8))
        }
        let document = #"[{"id": "openai", "models": ["# +
            #"{"id": "gpt-4o", "match": {"equals": "gpt-4o"}, "prices": {"input_mtok": "2.5", "output_mtok": 10}},"# +
            #"{"id": "o3", "match": {"equals": "o3"}, "prices": [{"constraint": {"weekday": 1}, "prices": {"input_mtok": 2}}]},"# +
            #"{"id": "free", "match": {"equals": "free"}, "prices": {}},"# +
            #"{"id": "gpt-5", "match": {"equals": "gpt-5"}, "prices": {"input_mtok": {"base": 1.25, "tiers": [{"start": -5, "price": 2}]}}}]}]"#
        let result = try adapter.parse(Data(document.utf8))
        #expect(result.observations.isEmpty)
        #expect(result.skipped.map(\.key) == ["openai/gpt-4o", "openai/o3", "openai/free", "openai/gpt-5"])
        #expect(result.skipped[2].reason == .noTokenPrices)
    }
}
