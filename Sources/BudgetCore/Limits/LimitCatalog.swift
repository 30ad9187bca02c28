// The budgets, current limit versions and current prices the engine decides with. Loaded from
// the store and cached; its generation tells the database which catalog a decision used.
import Foundation

public struct LimitCatalog: Sendable {
    public var generation: Int64
    public var budgets: [UUID: BudgetInfo]
    public var limits: [Limit]
    public var prices: [PriceKey: Price]
    /// An admin's extra names (`model_aliases`): a caller's provider and model → the stored name.
    public var aliases: [PriceKey: PriceKey]
    /// Audited window resets, by budget (few: people make them).
    public var resets: [UUID: [WindowReset]]
    /// Shared by copies of this catalog; keyed by zone, so it stays right whatever they change.
    private let timeWindows = WindowMemo()

    public init(generation: Int64, budgets: [UUID: BudgetInfo], limits: [Limit], prices: [PriceKey: Price], aliases: [PriceKey: PriceKey] = [:],
                resets: [WindowReset] = []) {
        self.generation = generation
        self.budgets = budgets
        self.limits = limits
        self.prices = prices
        self.aliases = aliases
        self.resets = Dictionary(grouping: resets, by: \.budgetID)
    }

    /// The window of `limit` holding `instant`: the natural window, cut at the resets that apply to it.
    public func window(of limit: Limit, in budget: BudgetInfo, at instant: Date, scope: Scope) -> Window? {
        let natural: Window?
        switch limit.period {
        case .perSession, .perTask: natural = Window.containing(instant, period: limit.period, calendar: budget.calendar, scope: scope)
        case .hourly, .daily, .weekly, .monthly: natural = timeWindows.window(of: limit.period, calendar: budget.calendar, at: instant)
        }
        guard let natural else { return nil }
        guard let resets = resets[limit.budgetID] else { return natural }
        return natural.cut(at: resets.filter { $0.applies(to: limit) }.map(\.resetAt), containing: instant)
    }

    public static let empty = LimitCatalog(generation: 0, budgets: [:], limits: [], prices: [:])

    /// Every limit, in every active budget, whose filter matches the call, with the window the
    /// call at `instant` falls in. Limits keyed by a session or task id the call lacks are skipped.
    public func applicableLimits(for scope: Scope, at instant: Date) -> [ApplicableLimit] {
        limits.compactMap { limit in
            guard let budget = budgets[limit.budgetID], budget.active, limit.filter.matches(scope),
                  let window = self.window(of: limit, in: budget, at: instant, scope: scope)
            else { return nil }
            return ApplicableLimit(limit: limit, budget: budget, window: window)
        }
        .sorted { ($0.limit.id, $0.window.key) < ($1.limit.id, $1.window.key) }
    }

    /// Limits a status query may show: compatible with the partial scope, optionally one budget.
    public func limitsForStatus(query: Scope, budgetID: UUID?, at instant: Date) -> [ApplicableLimit] {
        limits.compactMap { limit in
            guard let budget = budgets[limit.budgetID], budget.active,
                  budgetID == nil || budgetID == limit.budgetID,
                  limit.filter.isCompatible(with: query),
                  let window = self.window(of: limit, in: budget, at: instant, scope: query)
            else { return nil }
            return ApplicableLimit(limit: limit, budget: budget, window: window)
        }
        .sorted { ($0.budget.name, $0.limit.id) < ($1.budget.name, $1.limit.id) }
    }

    /// The price for a caller's provider and model: under their exact keys, else under an admin's
    /// alias for them, else under the canonical name `naming` gives them (so `claude-3.5-sonnet`
    /// finds `claude-3-5-sonnet`).
    public func price(provider: String?, model: String?, naming: PriceNaming = .exact) -> Price? {
        guard let providerKey = Scope.key(provider), let modelKey = Scope.key(model) else { return nil }
        let key = PriceKey(provider: providerKey, model: modelKey)
        if let price = prices[key] { return price }
        if let alias = aliases[key], let price = prices[alias] { return price }
        return naming.canonical(provider, modelKey).flatMap { prices[$0] }
    }
}

/// How callers' model names map to the canonical names prices are stored under. BudgetCore only
/// knows exact keys; the pricing module supplies its normaliser.
public struct PriceNaming: Sendable {
    let canonical: @Sendable (_ provider: String?, _ model: String) -> PriceKey?

    public init(_ canonical: @escaping @Sendable (_ provider: String?, _ model: String) -> PriceKey?) {
        self.canonical = canonical
    }

    public static let exact = PriceNaming { _, _ in nil }
}

/// Provider and model keys (trimmed, lower-cased) that identify a price.
public struct PriceKey: Sendable, Hashable {
    public var provider: String
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }
}

/// A limit that applies to a call, and the window the call falls in.
public struct ApplicableLimit: Sendable, Hashable {
    public var limit: Limit
    public var budget: BudgetInfo
    public var window: Window
}
