import BudgetCore
import Foundation
import Testing

private let budgetID = UUID(uuidString: "C0000000-0000-0000-0000-000000000001")!
private let otherBudgetID = UUID(uuidString: "C0000000-0000-0000-0000-000000000002")!

private func limit(_ id: String, budget: UUID = budgetID, provider: String? = nil, period: Period = .daily, metric: Metric = .costUSD,
                   component: String? = nil) -> Limit {
    Limit(id: UUID(uuidString: id)!, version: 1, budgetID: budget, filter: ScopeFilter(component: component, provider: provider),
          period: period, metric: metric, amount: dec("5"), policy: .enforce, validFrom: ISO.instant("2026-01-01T00:00:00Z"))
}

private func reset(_ at: String, budget: UUID = budgetID, period: Period? = .daily, limitID: UUID? = nil) -> WindowReset {
    WindowReset(id: UUID(), budgetID: budget, period: period, limitID: limitID, resetAt: ISO.instant(at), resetBy: "ops", reason: "test")
}

private func catalog(_ limits: [Limit], resets: [WindowReset] = [], zone identifier: String = "UTC") -> LimitCatalog {
    LimitCatalog(generation: 1, budgets: [
        budgetID: BudgetInfo(id: budgetID, name: "rhetor", timeZone: zone(identifier), active: true),
        otherBudgetID: BudgetInfo(id: otherBudgetID, name: "other", timeZone: zone("UTC"), active: true),
    ], limits: limits, prices: [:], resets: resets)
}

@Suite("Rhetor's token approximation: words + characters/4, and a 500-character reply of 126 tokens")
struct RhetorTokenEstimateTests {
    @Test func emptyTextIsZeroTokens() {
        #expect(RhetorTokenEstimate.tokens(in: "") == 0)
    }

    @Test func wordsPlusAQuarterOfTheCharactersRoundedDown() {
        // "hello world": 2 words + int(11 / 4) = 2 + 2
        #expect(RhetorTokenEstimate.tokens(in: "hello world") == 4)
        // 3 words, 19 characters: 3 + 4
        #expect(RhetorTokenEstimate.tokens(in: "  Write a  haiku.\n ") == 7)
        // Only white space: no words, 8 characters → 2
        #expect(RhetorTokenEstimate.tokens(in: " \t\n     ") == 2)
    }

    @Test func charactersAreCountedAsPythonCountsThem() {
        // Python's len() counts code points: "héllo wörld" is 11, not 13 bytes; "👍🏽" is 2 code points.
        #expect(RhetorTokenEstimate.tokens(in: "héllo wörld") == 4)
        #expect(RhetorTokenEstimate.tokens(in: "👍🏽 ok 👍🏽 ok") == 4 + 10 / 4)
        // str.split() also splits on the information separators U+001C…U+001F.
        #expect(RhetorTokenEstimate.tokens(in: "a\u{1F}b") == 2)
    }

    @Test func theAssumedReplyIs126Tokens() {
        #expect(RhetorTokenEstimate.assumedOutputCharacters == 500)
        #expect(RhetorTokenEstimate.assumedOutputTokens == 126)
    }
}

@Suite("Rhetor's vocabulary: periods, 'all', the limits it could express, its reasons and its cost estimate")
struct RhetorCompatMappingTests {
    @Test func periodsAndProviders() {
        #expect(RhetorCompat.period(" Daily ") == .daily)
        #expect(RhetorCompat.period("monthly") == .monthly)
        #expect(RhetorCompat.period("hourly") == nil)
        #expect(RhetorCompat.period("custom") == nil)
        #expect(RhetorCompat.providerFilter("all") == nil)
        #expect(RhetorCompat.providerFilter(" ALL ") == nil)
        #expect(RhetorCompat.providerFilter(nil) == nil)
        #expect(RhetorCompat.providerFilter(" Anthropic") == "anthropic")
        #expect(RhetorCompat.providerName(nil) == "all")
        #expect(RhetorCompat.exceededReason(.weekly) == "Weekly budget limit exceeded")
    }

    @Test func onlyProviderOnlyDollarLimitsOfRhetorPeriodsAreRhetorShaped() {
        #expect(RhetorCompat.isRhetorShaped(limit("10000000-0000-0000-0000-000000000001")))
        #expect(RhetorCompat.isRhetorShaped(limit("10000000-0000-0000-0000-000000000002", provider: "openai", period: .monthly)))
        #expect(!RhetorCompat.isRhetorShaped(limit("10000000-0000-0000-0000-000000000003", metric: .tokens)))
        #expect(!RhetorCompat.isRhetorShaped(limit("10000000-0000-0000-0000-000000000004", period: .hourly)))
        #expect(!RhetorCompat.isRhetorShaped(limit("10000000-0000-0000-0000-000000000005", component: "ergon")))
    }

    @Test func theProvidersOwnLimitIsReportedElseTheGlobalOne() {
        let global = limit("10000000-0000-0000-0000-000000000001")
        let anthropic = limit("10000000-0000-0000-0000-000000000002", provider: "anthropic")
        let candidates = [(limit: global, value: "g"), (limit: anthropic, value: "a")]
        #expect(RhetorCompat.reportedLimit(candidates, period: .daily, provider: "Anthropic")?.value == "a")
        #expect(RhetorCompat.reportedLimit(candidates, period: .daily, provider: "openai")?.value == "g")
        #expect(RhetorCompat.reportedLimit(candidates, period: .daily, provider: nil)?.value == "g")
        #expect(RhetorCompat.reportedLimit(candidates, period: .weekly, provider: "anthropic") == nil)
    }

    @Test func costEstimateIsExactAndUnknownWithoutAPrice() throws {
        let price = Price(id: UUID(), provider: "anthropic", model: "claude-3-haiku-20240307", input: dec("0.00000025"), output: dec("0.00000125"),
                          effectiveFrom: ISO.instant("2026-01-01T00:00:00Z"))
        let estimate = RhetorCompat.costEstimate(inputTokens: 4, outputTokens: 126, price: price)
        #expect(estimate.inputCost == dec("0.000001"))
        #expect(estimate.outputCost == dec("0.0001575"))
        #expect(estimate.totalCost == dec("0.0001585"))
        let unknown = RhetorCompat.costEstimate(inputTokens: 4, outputTokens: 126, price: nil)
        #expect(unknown.totalCost == nil)
        #expect(unknown.inputCost == nil)
    }
}

@Suite("Window resets cut a natural window: the part after a reset has a new key and starts at the reset")
struct WindowResetTests {
    let daily = limit("10000000-0000-0000-0000-000000000001")
    let weekly = limit("10000000-0000-0000-0000-000000000002", period: .weekly)

    @Test func withoutResetsWindowsAreNatural() throws {
        let window = try #require(catalog([daily]).applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T10:00:00Z")).first?.window)
        #expect(window.key == "2026-05-14T00:00:00Z")
        #expect(window.start == ISO.instant("2026-05-14T00:00:00Z"))
        #expect(window.end == ISO.instant("2026-05-15T00:00:00Z"))
    }

    @Test func aCallAfterAResetFallsInANewWindowStartingAtTheReset() throws {
        let cat = catalog([daily, weekly], resets: [reset("2026-05-14T09:30:00.250Z")])
        let applicable = cat.applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T10:00:00Z"))
        let dailyWindow = try #require(applicable.first { $0.limit.period == .daily }?.window)
        #expect(dailyWindow.key == "2026-05-14T00:00:00Z@reset:2026-05-14T09:30:00.250Z")
        #expect(dailyWindow.start == ISO.instant("2026-05-14T09:30:00.250Z"))
        #expect(dailyWindow.end == ISO.instant("2026-05-15T00:00:00Z"))
        // A daily reset leaves the weekly window alone.
        let weeklyWindow = try #require(applicable.first { $0.limit.period == .weekly }?.window)
        #expect(weeklyWindow.key == "2026-05-11T00:00:00Z")
    }

    @Test func aCallBeforeTheResetKeepsTheNaturalKeyAndEndsAtTheReset() throws {
        let cat = catalog([daily], resets: [reset("2026-05-14T09:30:00Z")])
        let window = try #require(cat.applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T08:00:00Z")).first?.window)
        #expect(window.key == "2026-05-14T00:00:00Z")
        #expect(window.start == ISO.instant("2026-05-14T00:00:00Z"))
        #expect(window.end == ISO.instant("2026-05-14T09:30:00Z"))
    }

    @Test func theLatestResetAtOrBeforeTheCallWinsAndLaterOnesEndIt() throws {
        let cat = catalog([daily], resets: [reset("2026-05-14T06:00:00Z"), reset("2026-05-14T12:00:00Z"), reset("2026-05-14T09:00:00Z")])
        let window = try #require(cat.applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T09:00:00Z")).first?.window)
        #expect(window.start == ISO.instant("2026-05-14T09:00:00Z"))
        #expect(window.end == ISO.instant("2026-05-14T12:00:00Z"))
        #expect(window.key == "2026-05-14T00:00:00Z@reset:2026-05-14T09:00:00.000Z")
    }

    @Test func aResetOfAnEarlierDayDoesNotTouchToday() throws {
        let cat = catalog([daily], resets: [reset("2026-05-13T15:00:00Z")])
        let window = try #require(cat.applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T10:00:00Z")).first?.window)
        #expect(window.key == "2026-05-14T00:00:00Z")
        #expect(window.start == ISO.instant("2026-05-14T00:00:00Z"))
    }

    @Test func resetsApplyOnlyToTheirBudgetAndLimit() throws {
        let other = limit("20000000-0000-0000-0000-000000000001", budget: otherBudgetID)
        let cat = catalog([daily, other], resets: [reset("2026-05-14T09:00:00Z", period: nil, limitID: daily.id)])
        let applicable = cat.applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T10:00:00Z"))
        #expect(applicable.first { $0.limit.id == daily.id }?.window.start == ISO.instant("2026-05-14T09:00:00Z"))
        #expect(applicable.first { $0.limit.id == other.id }?.window.start == ISO.instant("2026-05-14T00:00:00Z"))
        // Status reads see the same windows.
        let status = cat.limitsForStatus(query: Scope(), budgetID: budgetID, at: ISO.instant("2026-05-14T10:00:00Z"))
        #expect(status.first?.window.start == ISO.instant("2026-05-14T09:00:00Z"))
    }

    @Test func theRhetorPeriodWindowUsesTheBudgetZoneAndItsPeriodResets() {
        let cat = catalog([], resets: [reset("2026-05-14T09:00:00Z")], zone: "Europe/Berlin")
        let budget = cat.budgets[budgetID]!
        let daily = RhetorCompat.window(of: .daily, budget: budget, catalog: cat, at: ISO.instant("2026-05-14T10:00:00Z"))
        #expect(daily.start == ISO.instant("2026-05-14T09:00:00Z"))
        #expect(daily.end == ISO.instant("2026-05-14T22:00:00Z"))     // Berlin midnight in summer
        let monthly = RhetorCompat.window(of: .monthly, budget: budget, catalog: cat, at: ISO.instant("2026-05-14T10:00:00Z"))
        #expect(monthly.start == ISO.instant("2026-04-30T22:00:00Z"))
    }

    static func price(_ provider: String, _ model: String, _ input: String, _ output: String) -> Price {
        Price(id: UUID(), provider: provider, model: model, input: Decimal(string: input)!, output: Decimal(string: output)!, effectiveFrom: Date())
    }

    @Test func cheaperAlternativesFollowTheTaskTypesProviderPreferenceThenThePrice() {
        let opus = Self.price("anthropic", "claude-3-opus", "0.000015", "0.000075")
        let prices = [opus, Self.price("anthropic", "claude-3-haiku", "0.00000025", "0.00000125"),
                      Self.price("openai", "gpt-4o-mini", "0.00000015", "0.0000006"), Self.price("openai", "gpt-4", "0.00003", "0.00006"),
                      Self.price("mistral", "mistral-small", "0.0000001", "0.0000003"), Self.price("ollama", "llama3", "0", "0")]
        #expect(RhetorRouting.cheaperAlternatives(than: opus, taskType: "code", among: prices).map(\.model)
                == ["claude-3-haiku", "gpt-4o-mini", "llama3", "mistral-small"])   // gpt-4 costs as much; mistral is no preferred provider
        #expect(RhetorRouting.cheaperAlternatives(than: opus, taskType: " Chat ", among: prices).first?.model == "gpt-4o-mini")
        #expect(RhetorRouting.cheaperAlternatives(than: prices[5], taskType: nil, among: prices).isEmpty)   // a free model has none
        #expect(RhetorRouting.freeModels(among: prices + [Self.price("simulated", "sim", "0", "0"), Self.price("acme", "zero", "0", "0")]).map(\.provider)
                == ["ollama", "simulated", "acme"])
        #expect(RhetorRouting.cheapest(among: Array(prices.prefix(5)))?.model == "mistral-small")
        #expect(RhetorRouting.perToken(opus) * 1000 == Decimal(string: "0.09"))
    }
}
