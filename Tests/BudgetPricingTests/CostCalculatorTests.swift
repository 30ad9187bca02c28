// Tests for exact cost arithmetic: token conventions, each kind, context tiers, batch, errors.
import Foundation
import Testing
import BudgetPricing

@Suite("CostCalculator")
struct CostCalculatorTests {
    /// gpt-4o from LiteLLM 1.109.1: $2.5 / $10, cached $1.25, batch $1.25 / $5.
    func gpt4o() throws -> PriceSet { try Fixture.litellm().require(key("openai", "gpt-4o")).prices }
    /// claude-sonnet-4-5 from genai-prices: $3 / $15, cache read $0.3, write $3.75, >200k tier $6 / $22.5.
    func sonnet() throws -> PriceSet { try Fixture.genai().require(key("anthropic", "claude-sonnet-4-5")).prices }
    /// gemini-2.5-pro (AI Studio) from LiteLLM: $1.25 / $10, >200k $2.5 / $15.
    func gemini() throws -> PriceSet { try Fixture.litellm().require(key("google", "gemini-2.5-pro")).prices }

    @Test("OpenAI: cached tokens are inside prompt tokens, reasoning inside completion tokens")
    func openAIConvention() throws {
        let reported = TokenCounts(input: 1000, output: 500, cacheRead: 200, reasoning: 100)
        let tokens = try CostCalculator.normalise(reported: reported, convention: .openAI)
        #expect(tokens == TokenCounts(input: 800, output: 500, cacheRead: 200, reasoning: 100))
        let cost = try CostCalculator.cost(of: tokens, prices: gpt4o())
        // 800 × 2.5e-6 + 200 × 1.25e-6 + 500 × 1e-5 (reasoning billed as output: no distinct price)
        #expect(cost.total == dec("0.00725"))
        #expect(cost.lines.map(\.field) == [.input, .cacheRead, .output])
        #expect(cost.amount(for: .cacheRead) == dec("0.00025"))
    }

    @Test("Anthropic: cache reads and writes are reported apart from input")
    func anthropicConvention() throws {
        let reported = TokenCounts(input: 1000, output: 300, cacheRead: 5000, cacheWrite: 2000)
        let tokens = try CostCalculator.normalise(reported: reported, convention: .anthropic)
        #expect(tokens == reported)
        let cost = try CostCalculator.cost(of: tokens, prices: sonnet())
        // 1000 × 3e-6 + 5000 × 3e-7 + 2000 × 3.75e-6 + 300 × 1.5e-5
        #expect(cost.total == dec("0.0165"))
        #expect(cost.contextTier == nil)
    }

    @Test("Google: cached content is inside the prompt count, thoughts are apart from candidates")
    func googleConvention() throws {
        let reported = TokenCounts(input: 1000, output: 200, cacheRead: 400, reasoning: 50)
        let tokens = try CostCalculator.normalise(reported: reported, convention: .google)
        #expect(tokens == TokenCounts(input: 600, output: 250, cacheRead: 400, reasoning: 50))
        let cost = try CostCalculator.cost(of: tokens, prices: gemini())
        // 600 × 1.25e-6 + 400 × 1.25e-7 + 250 × 1e-5
        #expect(cost.total == dec("0.0033"))
    }

    struct Kind: Sendable, CustomStringConvertible {
        let tokens: TokenCounts
        let line: PriceField
        let amount: String
        var description: String { "\(line)" }
    }

    @Test("each token kind is charged at its own price, exactly", arguments: [
        Kind(tokens: TokenCounts(input: 1_234_567), line: .input, amount: "3.703701"),
        Kind(tokens: TokenCounts(output: 7), line: .output, amount: "0.000105"),
        Kind(tokens: TokenCounts(cacheRead: 3), line: .cacheRead, amount: "0.0000009"),
        Kind(tokens: TokenCounts(cacheWrite: 9_999_999_999), line: .cacheWrite, amount: "37499.99999625"),
        Kind(tokens: TokenCounts(output: 10, reasoning: 4), line: .reasoning, amount: "0.00002"),
    ])
    func eachKind(_ kind: Kind) throws {
        // Base prices only (no long-context tier), plus a distinct reasoning price ($5/M) so that
        // the reasoning line exists.
        var prices = try sonnet()
        prices.contextTiers = []
        prices.reasoning = perMillion("5")
        let cost = try CostCalculator.cost(of: kind.tokens, prices: prices)
        #expect(cost.amount(for: kind.line) == dec(kind.amount))
        if kind.line == .reasoning {
            // The other 6 output tokens are billed as output: 6 × 1.5e-5.
            #expect(cost.amount(for: .output) == dec("0.00009"))
            #expect(cost.total == dec("0.00011"))
        } else {
            #expect(cost.total == dec(kind.amount))
        }
    }

    @Test("reasoning costs the reasoning price only when the model has a distinct one")
    func reasoningPrice() throws {
        let tokens = TokenCounts(output: 1000, reasoning: 600)
        let plain = try CostCalculator.cost(of: tokens, prices: gpt4o())
        #expect(plain.total == dec("0.01"))          // 1000 × 1e-5
        var distinct = try gpt4o()
        distinct.reasoning = perMillion("20")
        let priced = try CostCalculator.cost(of: tokens, prices: distinct)
        #expect(priced.total == dec("0.016"))        // 400 × 1e-5 + 600 × 2e-5
    }

    @Test("above the context threshold the tier prices the whole request (strictly greater)")
    func contextTier() throws {
        let prices = try gemini()
        let atThreshold = try CostCalculator.cost(of: TokenCounts(input: 200_000, output: 1000), prices: prices)
        #expect(atThreshold.contextTier == nil)
        #expect(atThreshold.total == dec("0.26"))     // 200000 × 1.25e-6 + 1000 × 1e-5
        let above = try CostCalculator.cost(of: TokenCounts(input: 200_001, output: 1000), prices: prices)
        #expect(above.contextTier?.thresholdTokens == 200_000)
        #expect(above.total == dec("0.5150025"))      // 200001 × 2.5e-6 + 1000 × 1.5e-5
    }

    @Test("cache tokens count towards the threshold and take the tier's cache prices")
    func tierWithCache() throws {
        let tokens = TokenCounts(input: 150_000, output: 2000, cacheRead: 40_000, cacheWrite: 20_000)
        let cost = try CostCalculator.cost(of: tokens, prices: sonnet())
        #expect(cost.contextTier?.thresholdTokens == 200_000)
        // 150000 × 6e-6 + 40000 × 6e-7 + 20000 × 7.5e-6 + 2000 × 2.25e-5
        #expect(cost.total == dec("1.119"))
    }

    @Test("the highest exceeded tier wins; kinds a tier omits keep the base price")
    func multipleTiers() throws {
        let prices = PriceSet(input: perMillion("1"), output: perMillion("2"), cacheRead: perMillion("0.1"), contextTiers: [
            ContextTierPrice(thresholdTokens: 128_000, input: perMillion("2"), output: perMillion("4")),
            ContextTierPrice(thresholdTokens: 272_000, input: perMillion("3")),
        ])
        let cost = try CostCalculator.cost(of: TokenCounts(input: 300_000, output: 10, cacheRead: 100), prices: prices)
        #expect(cost.contextTier?.thresholdTokens == 272_000)
        #expect(cost.total == dec("0.90003"))   // 300000 × 3e-6 + 100 × 1e-7 + 10 × 2e-6
    }

    @Test("batch requests use batch prices")
    func batch() throws {
        let cost = try CostCalculator.cost(of: TokenCounts(input: 1000, output: 1000, cacheRead: 100), prices: gpt4o(), batch: true)
        #expect(cost.batch)
        #expect(cost.lines.map(\.field) == [.batchInput, .cacheRead, .batchOutput])
        #expect(cost.total == dec("0.006375"))  // 1000 × 1.25e-6 + 100 × 1.25e-6 + 1000 × 5e-6
    }

    @Test("missing prices are errors, never $0")
    func missingPrices() throws {
        let inputOnly = PriceSet(input: perMillion("1"))
        #expect(throws: CostError.missingPrice(.output)) { try CostCalculator.cost(of: TokenCounts(output: 1), prices: inputOnly) }
        #expect(throws: CostError.missingPrice(.batchInput)) {
            try CostCalculator.cost(of: TokenCounts(input: 1), prices: inputOnly, batch: true)
        }
        #expect(throws: CostError.noBatchPriceForContextTier(thresholdTokens: 200_000)) {
            try CostCalculator.cost(of: TokenCounts(input: 300_000), prices: gemini(), batch: true)
        }
        // Zero tokens of a kind need no price.
        #expect(try CostCalculator.cost(of: TokenCounts(input: 10), prices: inputOnly).total == dec("0.00001"))
    }

    @Test("cache tokens without a price of their own fall back to the input price, flagged")
    func cacheFallback() throws {
        let prices = PriceSet(input: perMillion("2"), output: perMillion("8"))
        let cost = try CostCalculator.cost(of: TokenCounts(input: 10, cacheRead: 5, cacheWrite: 5), prices: prices)
        #expect(cost.total == dec("0.00004"))
        #expect(cost.inputPriceFallbacks == [.cacheRead, .cacheWrite])
    }

    @Test("inconsistent reports are rejected")
    func invalidReports() {
        #expect(throws: CostError.cachedExceedsInput(input: 100, cached: 200)) {
            try CostCalculator.normalise(reported: TokenCounts(input: 100, cacheRead: 200), convention: .openAI)
        }
        #expect(throws: CostError.reasoningExceedsOutput(output: 10, reasoning: 20)) {
            try CostCalculator.normalise(reported: TokenCounts(output: 10, reasoning: 20), convention: .anthropic)
        }
        #expect(throws: CostError.negativeCount(.cacheWrite)) {
            try CostCalculator.normalise(reported: TokenCounts(cacheWrite: -1), convention: .normalised)
        }
        #expect(throws: CostError.overflow) {
            try CostCalculator.cost(of: TokenCounts(input: .max, cacheRead: 1), prices: PriceSet(input: 1, cacheRead: 1))
        }
    }

    @Test("normalise then price in one call")
    func combined() throws {
        let cost = try CostCalculator.cost(reported: TokenCounts(input: 1000, output: 500, cacheRead: 200, reasoning: 100),
                                           convention: .openAI, prices: gpt4o())
        #expect(cost.total == dec("0.00725"))
    }
}
