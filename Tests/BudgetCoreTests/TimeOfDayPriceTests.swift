import BudgetCore
import Foundation
import Testing

@Suite("Prices for hours of the day: each call at the rate of the hour it was made in")
struct TimeOfDayPriceTests {
    /// DeepSeek's deepseek-chat as genai-prices states it: the full rates from 00:30 to 16:30 UTC,
    /// half of them from 16:30 to 00:30 (the window runs past midnight).
    static let offPeak = TimeOfDayPrice(start: 16 * 3600 + 30 * 60, end: 30 * 60, input: Decimal(string: "0.000000135")!,
                                        output: Decimal(string: "0.00000055")!, cacheRead: Decimal(string: "0.000000035")!)
    static let price = Price(id: UUID(), provider: "deepseek", model: "deepseek-chat", input: Decimal(string: "0.00000027")!,
                             output: Decimal(string: "0.0000011")!, cacheRead: Decimal(string: "0.00000007")!,
                             timesOfDay: [offPeak], effectiveFrom: Date(timeIntervalSince1970: 0))
    static let usage = TokenUsage(input: 1_000_000, output: 100_000, cacheRead: 200_000)

    /// 2026-11-23 at `time` UTC.
    static func on23rd(_ time: String) -> Date {
        Date(timeIntervalSince1970: 1_795_392_000 + Double(TimeOfDayPrice.secondsOfDay(time)!))
    }

    @Test func aCallInTheDayIsPricedAtTheBaseRates() {
        // 1,000,000 × 0.00000027 + 100,000 × 0.0000011 + 200,000 × 0.00000007 = 0.27 + 0.11 + 0.014
        #expect(CostCalculator.cost(of: Self.usage, at: Self.price, madeAt: Self.on23rd("12:00")) == Decimal(string: "0.394"))
        #expect(CostCalculator.cost(of: Self.usage, at: Self.price, madeAt: Self.on23rd("00:30")) == Decimal(string: "0.394"))
        #expect(CostCalculator.cost(of: Self.usage, at: Self.price, madeAt: Self.on23rd("16:29:59")) == Decimal(string: "0.394"))
    }

    @Test func aCallInTheWindowIsPricedAtItsRatesOnBothSidesOfMidnight() {
        // 1,000,000 × 0.000000135 + 100,000 × 0.00000055 + 200,000 × 0.000000035 = 0.135 + 0.055 + 0.007
        for time in ["16:30", "23:59:59", "00:00", "00:29:59"] {
            #expect(CostCalculator.cost(of: Self.usage, at: Self.price, madeAt: Self.on23rd(time)) == Decimal(string: "0.197"), "at \(time)")
        }
    }

    @Test func withoutTheTimeOfTheCallTheBaseRatesApply() {
        #expect(CostCalculator.cost(of: Self.usage, at: Self.price) == Decimal(string: "0.394"))
    }

    @Test func kindsTheWindowLeavesOutKeepTheBasePrice() {
        var price = Self.price
        price.timesOfDay = [TimeOfDayPrice(start: 0, end: 3600, output: Decimal(string: "0.000001")!)]
        // input and cache reads at the base rates, output at the window's: 0.27 + 0.1 + 0.014
        #expect(CostCalculator.cost(of: Self.usage, at: price, madeAt: Self.on23rd("00:10")) == Decimal(string: "0.384"))
    }

    @Test func anEstimateCountsOnTheDearestHour() {
        // Made before the call, at an hour it cannot know: the base rates when the window is cheaper ...
        #expect(CostCalculator.estimate(inputTokens: 1_000_000, maxOutputTokens: 100_000, at: Self.price) == Decimal(string: "0.38"))
        // ... and the window's when it is dearer (a surcharge).
        var price = Self.price
        price.timesOfDay = [TimeOfDayPrice(start: 9 * 3600, end: 17 * 3600, input: Decimal(string: "0.0000005")!)]
        #expect(CostCalculator.estimate(inputTokens: 1_000_000, maxOutputTokens: 100_000, at: price) == Decimal(string: "0.61"))
        #expect(CostCalculator.cost(of: Self.usage, at: price, madeAt: Self.on23rd("08:59")) == Decimal(string: "0.394"))
    }

    @Test func aLongContextTierFallsBackToTheRatesOfTheHour() {
        var price = Self.price
        price.contextTiers = [ContextTier(thresholdTokens: 500_000, input: Decimal(string: "0.000001")!, output: nil)]
        // Above the threshold the tier's input price, the window's output and cache-read prices:
        // 1,000,000 × 0.000001 + 100,000 × 0.00000055 + 200,000 × 0.000000035 = 1 + 0.055 + 0.007
        #expect(CostCalculator.cost(of: Self.usage, at: price, madeAt: Self.on23rd("20:00")) == Decimal(string: "1.062"))
    }

    @Test func timesOfDayAreReadStrictly() {
        #expect(TimeOfDayPrice.secondsOfDay("16:30") == 59_400)
        #expect(TimeOfDayPrice.secondsOfDay("00:30:00Z") == 1_800)
        #expect(TimeOfDayPrice.secondsOfDay("23:59:59.5") == 86_399)
        for text in ["24:00", "7:30", "16:60", "16:30+01:00", "+1:30", "16", "", "16:30:", "ab:cd"] {
            #expect(TimeOfDayPrice.secondsOfDay(text) == nil, "\(text)")
        }
        #expect(TimeOfDayPrice.text(secondsOfDay: 59_400) == "16:30")
        #expect(TimeOfDayPrice.text(secondsOfDay: 86_399) == "23:59:59")
    }

    @Test func windowsOverlapWhenTheyShareASecond() {
        let evening = TimeOfDayPrice(start: 18 * 3600, end: 2 * 3600, input: 1)
        #expect(evening.overlaps(TimeOfDayPrice(start: 3600, end: 3 * 3600, input: 1)))
        #expect(evening.overlaps(TimeOfDayPrice(start: 20 * 3600, end: 21 * 3600, input: 1)))
        #expect(!evening.overlaps(TimeOfDayPrice(start: 2 * 3600, end: 18 * 3600, input: 1)))
    }

    @Test func storedJSONRoundTripsExactly() throws {
        let json = TimeOfDayPrice.json([Self.offPeak])
        #expect(json == #"[{"cache_read":"0.000000035","end":"00:30","input":"0.000000135","output":"0.00000055","start":"16:30"}]"#)
        #expect(TimeOfDayPrice.windows(json: json) == [Self.offPeak])
        #expect(TimeOfDayPrice.windows(json: "[]") == [])
        #expect(TimeOfDayPrice.windows(json: #"[{"start":"16:30","end":"16:30","input":"1"}]"#) == nil)
        #expect(TimeOfDayPrice.windows(json: #"[{"start":"16:30","end":"17:00"}]"#) == nil)
        #expect(TimeOfDayPrice.windows(json: #"[{"start":"16:30","end":"17:00","input":"-1"}]"#) == nil)
    }
}
