import BudgetCore
import Foundation
import Testing

/// significand × 10^exponent, built without parsing any text.
private func exact(_ significand: Int64, e exponent: Int) -> Decimal {
    Decimal(sign: significand < 0 ? .minus : .plus, exponent: exponent, significand: Decimal(significand.magnitude))
}

private let twoPow40: Int64 = 1_099_511_627_776
private let twoPow39: Int64 = 549_755_813_888

private func price(input: String, output: String, cacheRead: String? = nil, cacheWrite: String? = nil, reasoning: String? = nil) -> Price {
    Price(id: UUID(uuidString: "F2000000-0000-0000-0000-000000000001")!, provider: "p", model: "m", input: dec(input), output: dec(output),
          cacheRead: cacheRead.map(dec), cacheWrite: cacheWrite.map(dec), reasoning: reasoning.map(dec),
          effectiveFrom: ISO.instant("2026-01-01T00:00:00Z"))
}

/// Input $3 and output $15 per million tokens, no prices of its own for cache or reasoning tokens.
private let basic = price(input: "0.000003", output: "0.000015")
/// The same, with cache reads $0.30, cache writes $3.75 and reasoning $60 per million tokens.
private let full = price(input: "0.000003", output: "0.000015", cacheRead: "0.0000003", cacheWrite: "0.00000375", reasoning: "0.00006")

@Suite("Money is exact decimal text: Decimal(exactly:) parses plain decimal numbers and nothing else, plainText writes them without exponent, and costs are exact to the last digit")
struct MoneyTests {

    @Suite("Decimal(exactly:) accepts plain decimal text with an optional exponent and refuses everything else")
    struct Parsing {
        @Test(arguments: [
            ("0.0125", exact(125, e: -4)),
            ("-3", exact(-3, e: 0)),
            ("3e-6", exact(3, e: -6)),
            ("1E+3", exact(1000, e: 0)),
            ("12", exact(12, e: 0)),
            ("-0.0125", exact(-125, e: -4)),
            ("+7.50", exact(75, e: -1)),
            ("0.000003", exact(3, e: -6)),
        ])
        func acceptsPlainDecimalText(text: String, value: Decimal) throws {
            #expect(try #require(Decimal(exactly: text)) == value)
        }

        @Test(arguments: ["12abc", "", "1.2.3", ".", "e5", "0x10", " 1", "1 ", "-", "+", "1e", "1e+", "--1", "1,5", "NaN", "inf", "١٢"])
        func refusesAnythingElse(text: String) {
            #expect(Decimal(exactly: text) == nil)
        }

        @Test func refusesTextWithMoreDigitsThanADecimalHolds() {
            // 40 significant digits: Decimal keeps 38, so the value cannot be the text's.
            #expect(Decimal(exactly: "1234567890123456789012345678901234567891") == nil)
            #expect(Decimal(exactly: "0.1234567890123456789012345678901234567891") == nil)
        }
    }

    @Suite("plainText writes the value's digits without exponent or grouping")
    struct PlainText {
        @Test func smallValueHasNoExponent() {
            #expect(exact(3, e: -6).plainText == "0.000003")
        }

        @Test func trailingZerosAreDropped() {
            #expect(exact(150_000, e: -10).plainText == "0.000015")
        }

        @Test func largeValueHasNoExponentOrGrouping() {
            #expect(exact(1, e: 3).plainText == "1000")
            #expect(exact(12_345_678, e: 4).plainText == "123456780000")
        }

        @Test func negativeValueKeepsItsSign() {
            #expect(exact(-125, e: -4).plainText == "-0.0125")
        }

        @Test(arguments: ["0.0125", "-3", "1000", "0.000003", "12345678901234567890.123456789012345678", "0.00000000000000000000000000000000000001"])
        func parsedTextComesBackUnchanged(text: String) throws {
            #expect(try #require(Decimal(exactly: text)).plainText == text)
        }

        @Test func acceptedTextIsNeverWrittenBackAsADifferentNumber() {
            // Either refuse the text or write back its digits; never print a different amount.
            let text = "0.00000000000000000000000000000000000000001"
            if let value = Decimal(exactly: text) {
                #expect(value.plainText == text)
            }
        }
    }

    @Suite("The quick ways of Decimal(exactly:) and plainText give what Foundation's parser and writer give")
    struct QuickWays {
        /// Plain decimal text: a sign or not, leading zeros or not, up to 25 integer and 45 fraction digits.
        static func randomText(using generator: inout some RandomNumberGenerator) -> String {
            func digits(_ count: Int) -> String { String((0..<count).map { _ in "0123456789".randomElement(using: &generator)! }) }
            var text = Bool.random(using: &generator) ? "-" : ""
            text += Int.random(in: 0...3, using: &generator) == 0 ? "0" : digits(Int.random(in: 1...25, using: &generator))
            if Bool.random(using: &generator) {
                text += "." + String(repeating: "0", count: Int.random(in: 0...6, using: &generator)) + digits(Int.random(in: 1...45, using: &generator))
            }
            return text
        }

        // The random loops yield now and then: Swift Testing runs suites on the shared task pool,
        // where the API suites' live servers handle their requests too.
        @Test func parsingPlainTextAgreesWithFoundation() async {
            var generator = SystemRandomNumberGenerator()
            for round in 0..<10_000 {
                if round % 250 == 0 { await Task.yield() }
                let text = Self.randomText(using: &generator)
                let quick = Decimal(exactly: text)
                let general = Decimal.parsedByFoundation(text)
                #expect(quick == general, "\(text)")
                #expect(quick.map(\.foundationPlainText) == general.map(\.foundationPlainText), "\(text)")
            }
        }

        @Test func writingAgreesWithFoundationForParsedValuesAndTheirSumsDifferencesAndProducts() async {
            var generator = SystemRandomNumberGenerator()
            var checked = 0
            for round in 0..<5_000 {
                if round % 250 == 0 { await Task.yield() }
                guard let a = Decimal(exactly: Self.randomText(using: &generator)),
                      let b = Decimal(exactly: Self.randomText(using: &generator)) else { continue }
                for value in [a, b, a + b, a - b, a * b, b - b] {
                    #expect(value.plainText == value.foundationPlainText, "\(value.foundationPlainText)")
                    checked += 1
                }
            }
            #expect(checked > 10_000)
        }

        @Test(arguments: ["0", "0.000", "-0", "-0.0", "1.50", "100", "0012.3400", "18446744073709551615", "18446744073709551616",
                          "9999999999999999999", "-9999999999999999999.5", "0.00000000000000000000000000000000000001", "+5", "1.", ".5"])
        func edgeTextsAgreeWithFoundation(text: String) {
            let quick = Decimal(exactly: text)
            #expect(quick == Decimal.parsedByFoundation(text))
            #expect(quick?.plainText == Decimal.parsedByFoundation(text)?.foundationPlainText)
        }
    }

    @Suite("isWhole is true exactly for values without a fractional part")
    struct Whole {
        @Test(arguments: [(exact(0, e: 0), true), (exact(-3, e: 0), true), (exact(1, e: 3), true), (exact(2000, e: -3), true),
                          (exact(125, e: -4), false), (exact(-35, e: -1), false), (exact(1, e: -20), false),
                          (exact(1_000_000_000_000_000_001, e: -1), false)])
        func wholeValues(value: Decimal, whole: Bool) {
            #expect(value.isWhole == whole)
        }
    }

    @Suite("CostCalculator charges each kind of token at its price, exactly")
    struct Cost {
        @Test func inputTokensCostTheInputPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(input: twoPow40), at: basic) == dec("3298534.883328"))
        }

        @Test func outputTokensCostTheOutputPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(output: twoPow40), at: basic) == dec("16492674.41664"))
        }

        @Test func cacheReadsWithoutAPriceCostTheInputPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(cacheRead: twoPow40), at: basic) == dec("3298534.883328"))
        }

        @Test func cacheWritesWithoutAPriceCostTheInputPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(cacheWrite: twoPow40), at: basic) == dec("3298534.883328"))
        }

        @Test func cacheReadsCostTheirOwnPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(cacheRead: twoPow40), at: full) == dec("329853.4883328"))
        }

        @Test func cacheWritesCostTheirOwnPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(cacheWrite: twoPow40), at: full) == dec("4123168.60416"))
        }

        @Test func reasoningTokensArePartOfOutputWhenTheModelHasNoReasoningPrice() {
            #expect(CostCalculator.cost(of: TokenUsage(output: twoPow40, reasoning: twoPow39), at: basic) == dec("16492674.41664"))
        }

        @Test func reasoningTokensCostTheReasoningPriceAndTheRestOfOutputTheOutputPrice() {
            // 2^39 × 0.000015 + 2^39 × 0.00006
            #expect(CostCalculator.cost(of: TokenUsage(output: twoPow40, reasoning: twoPow39), at: full) == dec("41231686.0416"))
        }

        @Test func allKindsAddUp() {
            let usage = TokenUsage(input: twoPow40, output: twoPow40, cacheRead: twoPow40, cacheWrite: twoPow40, reasoning: twoPow39)
            #expect(CostCalculator.cost(of: usage, at: full) == dec("48983243.0174208"))
            #expect(CostCalculator.cost(of: usage, at: basic) == dec("26388279.066624"))
        }

        @Test func largestTokenCountIsStillExact() {
            // 9223372036854775807 × 0.000015 and × 0.000003: no detour through Double.
            #expect(CostCalculator.cost(of: TokenUsage(output: Int64.max), at: basic) == dec("138350580552821.637105"))
            #expect(CostCalculator.cost(of: TokenUsage(output: Int64.max), at: basic).plainText == "138350580552821.637105")
            #expect(CostCalculator.cost(of: TokenUsage(input: Int64.max), at: basic) == dec("27670116110564.327421"))
            #expect(CostCalculator.cost(of: TokenUsage(cacheRead: Int64.max), at: full) == dec("2767011611056.4327421"))
        }

        @Test func tokenCountBeyondDoublePrecisionIsExact() {
            // 2^53 + 1 has no Double representation.
            #expect(CostCalculator.cost(of: TokenUsage(input: 9_007_199_254_740_993), at: basic) == dec("27021597764.222979"))
        }

        @Test func noTokensCostNothing() {
            #expect(CostCalculator.cost(of: TokenUsage(), at: full) == 0)
        }

        @Test func estimateChargesAllInputAndTheMaximumOutput() {
            #expect(CostCalculator.estimate(inputTokens: 1000, maxOutputTokens: 500, at: full) == dec("0.0105"))
            #expect(CostCalculator.estimate(inputTokens: twoPow40, maxOutputTokens: twoPow40, at: basic) == dec("19791209.299968"))
        }
    }

    @Suite("TokenUsage.total counts every billed token once and is nil when it does not fit in 64 bits")
    struct Totals {
        @Test func totalAddsInputOutputAndCacheTokensButNotReasoningAgain() {
            #expect(TokenUsage(input: 10, output: 20, cacheRead: 3, cacheWrite: 4, reasoning: 15).total == 37)
        }

        @Test func totalThatFitsExactlyIsKept() {
            #expect(TokenUsage(input: Int64.max - 3, output: 1, cacheRead: 1, cacheWrite: 1).total == Int64.max)
        }

        @Test func totalThatOverflowsIsNil() {
            #expect(TokenUsage(input: Int64.max, output: 1).total == nil)
            #expect(TokenUsage(input: Int64.max / 2 + 1, cacheWrite: Int64.max / 2 + 1).total == nil)
            #expect(TokenUsage(cacheRead: Int64.max, cacheWrite: Int64.max).total == nil)
        }

        @Test func hugeReasoningDoesNotOverflowTheTotal() {
            #expect(TokenUsage(output: Int64.max, reasoning: Int64.max).total == Int64.max)
        }
    }
}
