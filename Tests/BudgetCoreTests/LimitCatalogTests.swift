import BudgetCore
import Foundation
import Testing

private let activeBudgetID = UUID(uuidString: "B0000000-0000-0000-0000-000000000001")!
private let inactiveBudgetID = UUID(uuidString: "B0000000-0000-0000-0000-000000000002")!
private let tokyoBudgetID = UUID(uuidString: "B0000000-0000-0000-0000-000000000003")!
private let instant = ISO.instant("2026-05-14T10:17:23Z")

private func limit(_ id: String, budget: UUID = activeBudgetID, filter: ScopeFilter = ScopeFilter(), period: Period = .daily,
                   metric: Metric = .costUSD, amount: String = "10", policy: Policy = .enforce) -> Limit {
    Limit(id: UUID(uuidString: id)!, version: 1, budgetID: budget, filter: filter, period: period, metric: metric,
          amount: dec(amount), policy: policy, validFrom: ISO.instant("2026-01-01T00:00:00Z"))
}

private func catalog(_ limits: [Limit], prices: [PriceKey: Price] = [:]) -> LimitCatalog {
    LimitCatalog(generation: 7, budgets: [
        activeBudgetID: BudgetInfo(id: activeBudgetID, name: "team", timeZone: zone("UTC"), active: true),
        inactiveBudgetID: BudgetInfo(id: inactiveBudgetID, name: "paused", timeZone: zone("UTC"), active: false),
        tokyoBudgetID: BudgetInfo(id: tokyoBudgetID, name: "apac", timeZone: zone("Asia/Tokyo"), active: true),
    ], limits: limits, prices: prices)
}

private func ids(_ applicable: [ApplicableLimit]) -> [String] {
    applicable.map(\.limit.id.uuidString)
}

@Suite("The catalog returns every limit of an active budget whose filter matches the call, with the call's window, in a deterministic order, and prices by trimmed lower-cased provider and model")
struct LimitCatalogTests {
    let global = limit("10000000-0000-0000-0000-000000000001")
    let anthropic = limit("20000000-0000-0000-0000-000000000002", filter: ScopeFilter(provider: "anthropic"), period: .hourly)
    let openai = limit("30000000-0000-0000-0000-000000000003", filter: ScopeFilter(provider: "openai"))

    @Test func globalAndPerProviderLimitsBothApply() {
        let applicable = catalog([global, anthropic, openai]).applicableLimits(for: Scope(provider: " Anthropic ", model: "claude"), at: instant)
        #expect(ids(applicable) == ["10000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002"])
    }

    @Test func eachApplicableLimitCarriesItsBudgetAndWindow() throws {
        let applicable = catalog([global, anthropic]).applicableLimits(for: Scope(provider: "anthropic"), at: instant)
        try #require(applicable.count == 2)
        #expect(applicable[0].budget.id == activeBudgetID)
        #expect(applicable[0].window.key == "2026-05-14T00:00:00Z")
        #expect(applicable[0].window.end == ISO.instant("2026-05-15T00:00:00Z"))
        #expect(applicable[1].window.key == "2026-05-14T10:00:00Z")
    }

    @Test func windowIsComputedInTheBudgetsZone() throws {
        let tokyoDaily = limit("40000000-0000-0000-0000-000000000004", budget: tokyoBudgetID)
        let applicable = catalog([tokyoDaily]).applicableLimits(for: Scope(), at: ISO.instant("2026-05-14T16:00:00Z"))
        let only = try #require(applicable.first)
        // 2026-05-14T16:00Z is 01:00 on May 15 in Tokyo.
        #expect(only.window.start == ISO.instant("2026-05-14T15:00:00Z"))
        #expect(only.window.end == ISO.instant("2026-05-15T15:00:00Z"))
    }

    @Test func limitsOfInactiveBudgetsDoNotApply() {
        let paused = limit("50000000-0000-0000-0000-000000000005", budget: inactiveBudgetID)
        #expect(ids(catalog([paused, global]).applicableLimits(for: Scope(), at: instant)) == ["10000000-0000-0000-0000-000000000001"])
    }

    @Test func limitsOfUnknownBudgetsDoNotApply() {
        let orphan = limit("60000000-0000-0000-0000-000000000006", budget: UUID(uuidString: "B0000000-0000-0000-0000-0000000000FF")!)
        #expect(catalog([orphan]).applicableLimits(for: Scope(), at: instant).isEmpty)
    }

    @Test func perSessionLimitNeedsASessionID() throws {
        let perSession = limit("70000000-0000-0000-0000-000000000007", period: .perSession)
        let perTask = limit("80000000-0000-0000-0000-000000000008", period: .perTask)
        let all = catalog([perSession, perTask, global])
        #expect(ids(all.applicableLimits(for: Scope(), at: instant)) == ["10000000-0000-0000-0000-000000000001"])
        #expect(ids(all.applicableLimits(for: Scope(sessionID: "  "), at: instant)) == ["10000000-0000-0000-0000-000000000001"])
        let withSession = all.applicableLimits(for: Scope(sessionID: "s-1"), at: instant)
        #expect(ids(withSession) == ["10000000-0000-0000-0000-000000000001", "70000000-0000-0000-0000-000000000007"])
        #expect(withSession.last?.window.key == "session:s-1")
        let withBoth = all.applicableLimits(for: Scope(sessionID: "s-1", taskID: "t-1"), at: instant)
        #expect(withBoth.map(\.window.key) == ["2026-05-14T00:00:00Z", "session:s-1", "task:t-1"])
    }

    @Test func resultsAreSortedByLimitIDWhateverTheCatalogOrder() {
        let a = limit("0A000000-0000-0000-0000-000000000000")
        let b = limit("0B000000-0000-0000-0000-000000000000", period: .hourly)
        let c = limit("C0000000-0000-0000-0000-000000000000", period: .monthly)
        let expected = ["0A000000-0000-0000-0000-000000000000", "0B000000-0000-0000-0000-000000000000", "C0000000-0000-0000-0000-000000000000"]
        for order in [[a, b, c], [c, b, a], [b, c, a]] {
            #expect(ids(catalog(order).applicableLimits(for: Scope(), at: instant)) == expected)
        }
    }

    @Test func filterThatDoesNotMatchExcludesTheLimit() {
        let tagged = limit("90000000-0000-0000-0000-000000000009", filter: ScopeFilter(tag: "batch"))
        #expect(catalog([tagged]).applicableLimits(for: Scope(tags: ["eu"]), at: instant).isEmpty)
        #expect(catalog([tagged]).applicableLimits(for: Scope(tags: ["batch"]), at: instant).count == 1)
    }

    @Test func emptyCatalogHasNoLimitsAndNoPrices() {
        #expect(LimitCatalog.empty.applicableLimits(for: Scope(provider: "anthropic"), at: instant).isEmpty)
        #expect(LimitCatalog.empty.price(provider: "anthropic", model: "claude") == nil)
    }

    @Test func statusShowsLimitsCompatibleWithAPartialQueryOptionallyForOneBudget() {
        let tokyoAnthropic = limit("40000000-0000-0000-0000-000000000004", budget: tokyoBudgetID, filter: ScopeFilter(provider: "anthropic"))
        let all = catalog([global, anthropic, openai, tokyoAnthropic])
        // Sorted by budget name ("apac" < "team"), then limit id.
        #expect(ids(all.limitsForStatus(query: Scope(provider: "ANTHROPIC"), budgetID: nil, at: instant))
                == ["40000000-0000-0000-0000-000000000004", "10000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002"])
        #expect(ids(all.limitsForStatus(query: Scope(provider: "anthropic"), budgetID: activeBudgetID, at: instant))
                == ["10000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002"])
        // Leaving the provider out shows the provider-specific limits too.
        #expect(all.limitsForStatus(query: Scope(), budgetID: activeBudgetID, at: instant).count == 3)
    }

    @Suite("price(provider:model:) looks prices up by trimmed, lower-cased keys")
    struct Prices {
        let sonnet = Price(id: UUID(uuidString: "F0000000-0000-0000-0000-000000000001")!, provider: "anthropic", model: "claude-sonnet-4",
                           input: dec("0.000003"), output: dec("0.000015"), effectiveFrom: ISO.instant("2026-01-01T00:00:00Z"))

        @Test func paddedMixedCaseNamesFindThePrice() {
            let prices = catalog([], prices: [PriceKey(provider: "anthropic", model: "claude-sonnet-4"): sonnet])
            #expect(prices.price(provider: " Anthropic ", model: "Claude-Sonnet-4\n") == sonnet)
            #expect(prices.price(provider: "anthropic", model: "claude-sonnet-4") == sonnet)
        }

        @Test func missingProviderOrModelHasNoPrice() {
            let prices = catalog([], prices: [PriceKey(provider: "anthropic", model: "claude-sonnet-4"): sonnet])
            #expect(prices.price(provider: nil, model: "claude-sonnet-4") == nil)
            #expect(prices.price(provider: "anthropic", model: nil) == nil)
            #expect(prices.price(provider: "  ", model: "claude-sonnet-4") == nil)
            #expect(prices.price(provider: "anthropic", model: "claude-opus-4") == nil)
            #expect(prices.price(provider: "openai", model: "claude-sonnet-4") == nil)
        }
    }

    /// The catalog remembers the last window per zone and period; walking forwards and then
    /// backwards through DST changes and month, year and week ends, every call must still get the
    /// window the calendar gives.
    @Test(arguments: ["America/New_York", "Europe/Berlin", "Asia/Kolkata"])
    func rememberedWindowsAreTheCalendarsWindowsAcrossDSTAndMonthEnds(zoneID: String) throws {
        let budgetID = UUID()
        let periods: [Period] = [.hourly, .daily, .weekly, .monthly]
        let limits = periods.enumerated().map { index, period in
            Limit(id: UUID(), version: 1, budgetID: budgetID, filter: ScopeFilter(), period: period, metric: .costUSD,
                  amount: dec("1"), policy: .enforce, validFrom: ISO.instant("2020-01-01T00:00:00Z"))
        }
        let catalog = LimitCatalog(generation: 1, budgets: [budgetID: BudgetInfo(id: budgetID, name: "z", timeZone: zone(zoneID), active: true)],
                                   limits: limits, prices: [:])
        let calendar = Window.gregorian(in: zone(zoneID))
        // 2026-03-01 .. 2026-04-02 (US and EU spring changes, a month end) and 2026-10-24 .. 2027-01-02
        // (autumn changes, the year end), in steps of 23 minutes 17 seconds, forwards then backwards.
        var instants: [Date] = []
        for (from, to) in [("2026-03-01T00:00:00Z", "2026-04-02T00:00:00Z"), ("2026-10-24T00:00:00Z", "2027-01-02T00:00:00Z")] {
            var instant = ISO.instant(from)
            while instant < ISO.instant(to) { instants.append(instant); instant += 1397 }
        }
        var checked = 0
        for instant in instants + instants.reversed() {
            for applicable in catalog.applicableLimits(for: Scope(component: "c"), at: instant) {
                let expected = try #require(Window.containing(instant, period: applicable.limit.period, calendar: calendar, scope: Scope()))
                #expect(applicable.window == expected, "\(applicable.limit.period) at \(instant) in \(zoneID)")
                checked += 1
            }
        }
        #expect(checked == 2 * instants.count * periods.count)
    }
}
