// Rhetor's budget vocabulary and how it maps onto Budget's (the compatibility API).
import Foundation

/// Rhetor's `BudgetManager` kept limits per period (daily, weekly, monthly) and provider (or
/// `'all'`), in dollars, with a policy. In Budget they are `cost_usd` limits of one budget
/// (`rhetor` by default) whose filter names only the provider (none for `'all'`).
public enum RhetorCompat {
    /// The budget the compatibility routes act on, unless configured otherwise (the Rhetor
    /// importer imports into the same name).
    public static let defaultBudgetName = "rhetor"

    /// Rhetor's word for "every provider".
    public static let allProviders = "all"

    /// Rhetor's periods, in the order its check walked them.
    public static let periods: [Period] = [.daily, .weekly, .monthly]

    /// A Rhetor period name → Budget's period; nil for anything Rhetor did not have.
    public static func period(_ raw: String) -> Period? {
        switch raw.trimmingWhitespace().lowercased() {
        case "daily": .daily
        case "weekly": .weekly
        case "monthly": .monthly
        default: nil
        }
    }

    /// Rhetor's provider argument → the provider a limit filters on (nil = every provider).
    public static func providerFilter(_ raw: String?) -> String? {
        guard let key = Scope.key(raw), key != allProviders else { return nil }
        return key
    }

    /// Budget's provider filter → Rhetor's provider column.
    public static func providerName(_ filter: String?) -> String {
        filter ?? allProviders
    }

    /// Whether a limit is one Rhetor could have made: a dollar limit of a Rhetor period whose
    /// filter names nothing but (at most) a provider.
    public static func isRhetorShaped(_ limit: Limit) -> Bool {
        let filter = limit.filter
        return limit.metric == .costUSD && periods.contains(limit.period)
            && filter.component == nil && filter.model == nil && filter.taskType == nil && filter.tier == nil && filter.tag == nil
    }

    /// "Daily budget limit exceeded", as Rhetor's check said it.
    public static func exceededReason(_ period: Period) -> String {
        "\(period.rawValue.prefix(1).uppercased())\(period.rawValue.dropFirst()) budget limit exceeded"
    }

    /// The limit Rhetor's check would report for a period: the provider's own limit when there is
    /// one, else the global one. (Rhetor consulted only the provider's; Budget enforces both.)
    public static func reportedLimit<T>(_ candidates: [(limit: Limit, value: T)], period: Period, provider: String?) -> (limit: Limit, value: T)? {
        let ofPeriod = candidates.filter { $0.limit.period == period && isRhetorShaped($0.limit) }
        let providerKey = providerFilter(provider)
        if let providerKey, let own = ofPeriod.first(where: { $0.limit.filter.provider == providerKey }) { return own }
        return ofPeriod.first(where: { $0.limit.filter.provider == nil })
    }

    /// Rhetor's cost estimate: all input at the input price plus the output at the output price;
    /// nil prices (an unknown model) give nil costs — unknown, never free.
    /// (A long-context tier and the dearest hour of the day apply as in `CostCalculator.estimate`,
    /// so the total is the engine's.)
    public static func costEstimate(inputTokens: Int64, outputTokens: Int64, price basePrice: Price?) -> CostEstimate {
        guard let price = basePrice?.dearest(inputTokens: inputTokens, outputTokens: outputTokens) else { return CostEstimate(inputTokens: inputTokens, outputTokens: outputTokens, inputCost: nil, outputCost: nil) }
        return CostEstimate(inputTokens: inputTokens, outputTokens: outputTokens,
                            inputCost: Decimal(inputTokens) * price.input, outputCost: Decimal(outputTokens) * price.output)
    }

    /// Rhetor's `estimate_cost` answer, with unknown costs as nil.
    public struct CostEstimate: Sendable, Hashable {
        public var inputTokens: Int64
        public var outputTokens: Int64
        public var inputCost: Decimal?
        public var outputCost: Decimal?
        public var totalCost: Decimal? {
            guard let inputCost, let outputCost else { return nil }
            return inputCost + outputCost
        }
    }
}

extension RhetorCompat {
    /// The current window of a Rhetor period in `budget` (its zone), cut at the period's resets:
    /// where Rhetor's usage figures start (midnight, Monday, the 1st, or the last reset since).
    public static func window(of period: Period, budget: BudgetInfo, catalog: LimitCatalog, at instant: Date) -> Window {
        precondition(periods.contains(period), "Rhetor periods are daily, weekly and monthly")
        let natural = Window.containing(instant, period: period, calendar: budget.calendar, scope: Scope())!
        let cuts = (catalog.resets[budget.id] ?? []).filter { $0.limitID == nil && $0.period == period }.map(\.resetAt)
        return natural.cut(at: cuts, containing: instant)
    }
}
