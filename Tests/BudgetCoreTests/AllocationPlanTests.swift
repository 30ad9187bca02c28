import BudgetCore
import Foundation
import Testing

private let budgetID = UUID(uuidString: "B1000000-0000-0000-0000-000000000001")!
private let now = ISO.instant("2026-05-14T10:17:23Z")
private let sonnetPrice = Price(id: UUID(uuidString: "F1000000-0000-0000-0000-000000000001")!, provider: "anthropic", model: "claude-sonnet-4",
                                input: dec("0.000003"), output: dec("0.000015"), effectiveFrom: ISO.instant("2026-01-01T00:00:00Z"))

private func limit(_ id: String, metric: Metric = .costUSD, amount: String = "10", policy: Policy = .enforce,
                   warnAt: String = "0.8", period: Period = .daily, filter: ScopeFilter = ScopeFilter()) -> Limit {
    Limit(id: UUID(uuidString: id)!, version: 1, budgetID: budgetID, filter: filter, period: period, metric: metric,
          amount: dec(amount), policy: policy, warnAt: dec(warnAt), validFrom: ISO.instant("2026-01-01T00:00:00Z"))
}

private func catalog(_ limits: [Limit]) -> LimitCatalog {
    LimitCatalog(generation: 1,
                 budgets: [budgetID: BudgetInfo(id: budgetID, name: "team", timeZone: zone("UTC"), active: true)],
                 limits: limits,
                 prices: [PriceKey(provider: "anthropic", model: "claude-sonnet-4"): sonnetPrice])
}

private let priced = Scope(provider: "Anthropic", model: "claude-sonnet-4")
private let unpriced = Scope(provider: "anthropic", model: "claude-unreleased")

/// A state of `limit` (with an empty filter) in its current window, with the given counters.
/// `ApplicableLimit` has no public initializer, so it comes from the catalog like in the engine.
private func state(_ limit: Limit, spent: String, reserved: String = "0") -> LimitState {
    let applicable = catalog([limit]).applicableLimits(for: Scope(), at: now)
    precondition(applicable.count == 1, "the test limit must apply to an empty scope")
    return LimitState(applicable: applicable[0], spent: dec(spent), reserved: dec(reserved))
}

@Suite("The planner reserves, for each applicable limit, the estimate in that limit's metric: tokens as input plus maximum output, cost as the stated cost or the tokens at the model's price")
struct AllocationPlanTests {
    @Test func tokenEstimateIsPricedExactlyWithTheModelsPrice() throws {
        let cost = limit("10000000-0000-0000-0000-000000000001")
        let plan = try AllocationPlanner.plan(scope: priced, estimate: Estimate(inputTokens: 1000, maxOutputTokens: 500), catalog: catalog([cost]), at: now)
        // 1000 × 0.000003 + 500 × 0.000015 = 0.003 + 0.0075
        #expect(plan.estimatedCost == dec("0.0105"))
        #expect(plan.reservations.map(\.amount) == [dec("0.0105")])
        #expect(plan.price == sonnetPrice)
        #expect(plan.estimatedTokens == 1500)
        #expect(plan.warnings.isEmpty)
    }

    @Test func statedCostWinsOverThePrice() throws {
        let cost = limit("10000000-0000-0000-0000-000000000001")
        let plan = try AllocationPlanner.plan(scope: priced, estimate: Estimate(inputTokens: 1000, maxOutputTokens: 500, costUSD: dec("0.25")),
                                              catalog: catalog([cost]), at: now)
        #expect(plan.estimatedCost == dec("0.25"))
        #expect(plan.reservations.map(\.amount) == [dec("0.25")])
        #expect(plan.price == sonnetPrice)
    }

    @Test func statedCostNeedsNoPrice() throws {
        let cost = limit("10000000-0000-0000-0000-000000000001")
        let plan = try AllocationPlanner.plan(scope: unpriced, estimate: Estimate(costUSD: dec("1.5")), catalog: catalog([cost]), at: now)
        #expect(plan.estimatedCost == dec("1.5"))
        #expect(plan.reservations.map(\.amount) == [dec("1.5")])
        #expect(plan.price == nil)
        #expect(plan.warnings.isEmpty)
    }

    @Test func tokensLimitReservesInputPlusMaximumOutput() throws {
        let tokens = limit("20000000-0000-0000-0000-000000000002", metric: .tokens, amount: "100000")
        let cost = limit("10000000-0000-0000-0000-000000000001")
        let plan = try AllocationPlanner.plan(scope: priced, estimate: Estimate(inputTokens: 1200, maxOutputTokens: 800, costUSD: dec("9")),
                                              catalog: catalog([tokens, cost]), at: now)
        // Sorted by limit id: the cost limit first.
        #expect(plan.reservations.map(\.applicable.limit.metric) == [.costUSD, .tokens])
        #expect(plan.reservations.map(\.amount) == [dec("9"), dec("2000")])
    }

    @Test func tokensLimitNeedsNoPrice() throws {
        let tokens = limit("20000000-0000-0000-0000-000000000002", metric: .tokens, amount: "100000")
        let plan = try AllocationPlanner.plan(scope: unpriced, estimate: Estimate(inputTokens: 10, maxOutputTokens: 5), catalog: catalog([tokens]), at: now)
        #expect(plan.reservations.map(\.amount) == [dec("15")])
        #expect(plan.estimatedCost == nil)
        #expect(plan.warnings.isEmpty)
    }

    @Test func tokenEstimateSaturatesInsteadOfOverflowing() {
        #expect(Estimate(inputTokens: Int64.max, maxOutputTokens: 1).tokens == Int64.max)
        #expect(Estimate(inputTokens: Int64.max - 1, maxOutputTokens: 1).tokens == Int64.max)
        #expect(Estimate(inputTokens: 3, maxOutputTokens: 4).tokens == 7)
    }

    @Test func unknownPriceUnderAnEnforceCostLimitThrows() {
        let enforce = limit("10000000-0000-0000-0000-000000000001")
        #expect(throws: PlanningError.priceUnknown(provider: "anthropic", model: "claude-unreleased", limitID: enforce.id)) {
            try AllocationPlanner.plan(scope: unpriced, estimate: Estimate(inputTokens: 1000, maxOutputTokens: 500), catalog: catalog([enforce]), at: now)
        }
    }

    @Test(arguments: [Policy.warn, .ignore])
    func unknownPriceUnderANonEnforceCostLimitReservesZeroAndWarns(policy: Policy) throws {
        let soft = limit("10000000-0000-0000-0000-000000000001", policy: policy)
        let plan = try AllocationPlanner.plan(scope: unpriced, estimate: Estimate(inputTokens: 1000, maxOutputTokens: 500), catalog: catalog([soft]), at: now)
        #expect(plan.reservations.map(\.amount) == [0])
        #expect(plan.estimatedCost == nil)
        try #require(plan.warnings.count == 1)
        #expect(plan.warnings[0].contains("anthropic/claude-unreleased"))
        #expect(plan.warnings[0].contains(soft.id.uuidString))
    }

    @Test func noApplicableLimitsPlansNoReservations() throws {
        let openaiOnly = limit("10000000-0000-0000-0000-000000000001", filter: ScopeFilter(provider: "openai"))
        let plan = try AllocationPlanner.plan(scope: unpriced, estimate: Estimate(inputTokens: 1), catalog: catalog([openaiOnly]), at: now)
        #expect(plan.reservations.isEmpty)
    }
}

@Suite("A decision denies a normal call exactly when an enforce limit's spent + reserved + request would pass its amount; critical calls bypass and are recorded; warn limits only warn; ignore limits are silent")
struct DecisionTests {
    let enforce = limit("10000000-0000-0000-0000-000000000001", amount: "10")
    let secondEnforce = limit("20000000-0000-0000-0000-000000000002", amount: "5")
    let warn = limit("30000000-0000-0000-0000-000000000003", amount: "10", policy: .warn)
    let ignore = limit("40000000-0000-0000-0000-000000000004", amount: "10", policy: .ignore)

    @Test func requestReachingTheAmountExactlyIsAllowed() {
        let decision = Decision.evaluate([(state(enforce, spent: "4", reserved: "3"), dec("3"))], priority: .normal)
        #expect(decision.allowed)
        #expect(decision.deniedBy == nil)
        #expect(decision.bypassed.isEmpty)
    }

    @Test func requestPassingTheAmountBySmallestStepIsDenied() {
        let full = state(enforce, spent: "4", reserved: "3")
        let decision = Decision.evaluate([(full, dec("3.000001"))], priority: .normal)
        #expect(!decision.allowed)
        #expect(decision.deniedBy == full)
        #expect(decision.bypassed.isEmpty)
    }

    @Test(arguments: [Priority.low, .normal, .high])
    func nonCriticalPrioritiesAreDenied(priority: Priority) {
        let decision = Decision.evaluate([(state(enforce, spent: "10"), dec("0.01"))], priority: priority)
        #expect(!decision.allowed)
    }

    @Test func firstDenyingEnforceLimitIsReported() {
        let roomy = state(enforce, spent: "0")
        let tight = state(secondEnforce, spent: "5")
        let overEnforce = state(enforce, spent: "9.5")
        #expect(Decision.evaluate([(roomy, dec("1")), (tight, dec("1"))], priority: .normal).deniedBy == tight)
        #expect(Decision.evaluate([(overEnforce, dec("1")), (tight, dec("1"))], priority: .normal).deniedBy == overEnforce)
    }

    @Test func criticalCallBypassesAndRecordsTheBypass() throws {
        let over = state(enforce, spent: "9", reserved: "1")
        let alsoOver = state(secondEnforce, spent: "5")
        let decision = Decision.evaluate([(over, dec("2")), (alsoOver, dec("1"))], priority: .critical)
        #expect(decision.allowed)
        #expect(decision.deniedBy == nil)
        #expect(decision.bypassed == [over, alsoOver])
        try #require(decision.warnings.count == 2)
        #expect(decision.warnings[0].contains("critical"))
        #expect(decision.warnings[0].contains(enforce.id.uuidString))
    }

    @Test func criticalCallWithinLimitsBypassesNothing() {
        let decision = Decision.evaluate([(state(enforce, spent: "1"), dec("1"))], priority: .critical)
        #expect(decision.allowed)
        #expect(decision.bypassed.isEmpty)
        #expect(decision.warnings.isEmpty)
    }

    @Test func enforceLimitWarnsWhenAnAllowedRequestReachesWarnAt() throws {
        // 7 + 1 = 8 = 0.8 × 10.
        let decision = Decision.evaluate([(state(enforce, spent: "7"), dec("1"))], priority: .normal)
        #expect(decision.allowed)
        try #require(decision.warnings.count == 1)
        #expect(decision.warnings[0].contains("past 0.8"))
        #expect(decision.warnings[0].contains("8 of 10 cost_usd"))
    }

    @Test func warnLimitNeverDenies() {
        let decision = Decision.evaluate([(state(warn, spent: "50"), dec("100"))], priority: .normal)
        #expect(decision.allowed)
        #expect(decision.deniedBy == nil)
        #expect(decision.bypassed.isEmpty)
    }

    @Test func warnLimitWarnsPastWarnAt() throws {
        let decision = Decision.evaluate([(state(warn, spent: "7.5"), dec("1"))], priority: .normal)
        try #require(decision.warnings.count == 1)
        #expect(decision.warnings[0].contains("past 0.8"))
        #expect(decision.warnings[0].contains("8.5 of 10"))
    }

    @Test func warnLimitWarnsThatItWouldBeExceeded() throws {
        let decision = Decision.evaluate([(state(warn, spent: "9", reserved: "1"), dec("0.5"))], priority: .normal)
        #expect(decision.allowed)
        try #require(decision.warnings.count == 1)
        #expect(decision.warnings[0].contains("would be exceeded"))
        #expect(decision.warnings[0].contains("10.5 of 10"))
    }

    @Test func warnLimitBelowWarnAtIsSilent() {
        #expect(Decision.evaluate([(state(warn, spent: "7"), dec("0.99"))], priority: .normal).warnings.isEmpty)
    }

    @Test func ignoreLimitIsSilentEvenFarPastItsAmount() {
        let decision = Decision.evaluate([(state(ignore, spent: "1000"), dec("1000"))], priority: .normal)
        #expect(decision.allowed)
        #expect(decision.warnings.isEmpty)
        #expect(decision.bypassed.isEmpty)
        #expect(decision.deniedBy == nil)
    }

    @Test func noStatesIsAllowed() {
        let decision = Decision.evaluate([], priority: .normal)
        #expect(decision.allowed)
        #expect(decision.warnings.isEmpty)
    }
}

@Suite("A limit's health is ok below warn_at × amount, warning from there up to the amount itself, exceeded past it; a zero amount is exceeded by any use")
struct LimitHealthTests {
    @Test(arguments: [
        ("7.999999", "10", "0.8", LimitHealth.ok),
        ("8", "10", "0.8", .warning),
        ("10", "10", "0.8", .warning),
        ("10.000001", "10", "0.8", .exceeded),
        ("0", "10", "0.8", .ok),
        ("0", "0", "0.8", .ok),
        ("0.000001", "0", "0.8", .exceeded),
        ("9.999", "10", "1", .ok),
        ("10", "10", "1", .warning),
    ])
    func healthAtTheBoundaries(used: String, amount: String, warnAt: String, expected: LimitHealth) {
        #expect(LimitState.health(used: dec(used), amount: dec(amount), warnAt: dec(warnAt)) == expected)
    }

    @Test func stateHealthCountsSpentAndReserved() {
        let tenDollars = limit("10000000-0000-0000-0000-000000000001", amount: "10")
        #expect(state(tenDollars, spent: "5", reserved: "2.99").health == .ok)
        #expect(state(tenDollars, spent: "5", reserved: "3").health == .warning)
        #expect(state(tenDollars, spent: "5", reserved: "5.01").health == .exceeded)
    }

    @Test func remainingIsNegativeWhenOverrun() {
        let tenDollars = limit("10000000-0000-0000-0000-000000000001", amount: "10")
        #expect(state(tenDollars, spent: "4.25", reserved: "1").remaining == dec("4.75"))
        #expect(state(tenDollars, spent: "12", reserved: "0.5").remaining == dec("-2.5"))
    }

    @Test func projectedHealthAddsTheRequest() {
        let tenDollars = limit("10000000-0000-0000-0000-000000000001", amount: "10")
        let current = state(tenDollars, spent: "6")
        #expect(current.projected(adding: dec("1.99")) == .ok)
        #expect(current.projected(adding: dec("2")) == .warning)
        #expect(current.projected(adding: dec("4.01")) == .exceeded)
        #expect(current.admits(dec("4")))
        #expect(!current.admits(dec("4.01")))
    }
}
