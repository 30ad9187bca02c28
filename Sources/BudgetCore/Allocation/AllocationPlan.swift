// Turns an allocation request into what each applicable limit must reserve, and decides a
// request against window states (the `check` answer; `allocate` makes the same decision
// atomically inside PostgreSQL).
import Foundation

/// What a caller expects to spend: tokens (priced with the model's current price), a cost, or both.
public struct Estimate: Sendable, Hashable {
    public var inputTokens: Int64
    public var maxOutputTokens: Int64
    public var costUSD: Decimal?

    public init(inputTokens: Int64 = 0, maxOutputTokens: Int64 = 0, costUSD: Decimal? = nil) {
        self.inputTokens = inputTokens
        self.maxOutputTokens = maxOutputTokens
        self.costUSD = costUSD
    }

    public var tokens: Int64 {
        let (sum, overflow) = inputTokens.addingReportingOverflow(maxOutputTokens)
        return overflow ? Int64.max : sum
    }
}

public struct PlannedReservation: Sendable, Hashable {
    public var applicable: ApplicableLimit
    /// In the limit's metric: dollars or tokens.
    public var amount: Decimal
}

public struct AllocationPlan: Sendable {
    public var reservations: [PlannedReservation]
    /// Nil when neither a price nor a stated cost is known.
    public var estimatedCost: Decimal?
    public var estimatedTokens: Int64
    public var price: Price?
    public var warnings: [String]
}

public enum PlanningError: Error, Equatable, Sendable {
    /// An enforce limit counts dollars, the model has no price, and the caller stated no cost.
    case priceUnknown(provider: String?, model: String?, limitID: UUID)
}

public enum AllocationPlanner {
    public static func plan(scope: Scope, estimate: Estimate, catalog: LimitCatalog, at instant: Date,
                            naming: PriceNaming = .exact) throws(PlanningError) -> AllocationPlan {
        let price = catalog.price(provider: scope.provider, model: scope.model, naming: naming)
        let cost = estimate.costUSD ?? price.map {
            CostCalculator.estimate(inputTokens: estimate.inputTokens, maxOutputTokens: estimate.maxOutputTokens, at: $0)
        }
        var warnings: [String] = []
        var reservations: [PlannedReservation] = []
        for applicable in catalog.applicableLimits(for: scope, at: instant) {
            switch applicable.limit.metric {
            case .tokens:
                reservations.append(PlannedReservation(applicable: applicable, amount: Decimal(estimate.tokens)))
            case .costUSD:
                if let cost {
                    reservations.append(PlannedReservation(applicable: applicable, amount: cost))
                } else if applicable.limit.policy == .enforce {
                    throw .priceUnknown(provider: scope.provider, model: scope.model, limitID: applicable.limit.id)
                } else {
                    // Unknown is not free: the limit tracks the call but cannot reserve a cost.
                    reservations.append(PlannedReservation(applicable: applicable, amount: 0))
                    warnings.append("no price is known for \(scope.provider ?? "?")/\(scope.model ?? "?"); limit \(applicable.limit.id) cannot count its cost until it is priced")
                }
            }
        }
        return AllocationPlan(reservations: reservations, estimatedCost: cost, estimatedTokens: estimate.tokens, price: price, warnings: warnings)
    }
}

/// The answer to "may I spend this?" given the current window states.
public struct Decision: Sendable {
    public var allowed: Bool
    /// The first enforce limit that denies, when not allowed (nil for critical calls, which bypass).
    public var deniedBy: LimitState?
    public var bypassed: [LimitState]
    public var warnings: [String]

    public static func evaluate(_ states: [(state: LimitState, request: Decimal)], priority: Priority) -> Decision {
        var warnings: [String] = []
        var deniedBy: LimitState?
        var bypassed: [LimitState] = []
        for (state, request) in states {
            let limit = state.applicable.limit
            switch limit.policy {
            case .enforce:
                if !state.admits(request) {
                    if priority == .critical {
                        bypassed.append(state)
                        warnings.append("critical priority exceeds enforce limit \(limit.id) (\(limit.period.rawValue))")
                    } else if deniedBy == nil {
                        deniedBy = state
                    }
                } else if state.projected(adding: request) == .warning {
                    warnings.append(Self.thresholdWarning(state, request))
                }
            case .warn:
                let projected = state.projected(adding: request)
                if projected == .exceeded {
                    warnings.append("warn limit \(limit.id) (\(limit.period.rawValue)) would be exceeded: \(Self.describe(state, request))")
                } else if projected == .warning {
                    warnings.append(Self.thresholdWarning(state, request))
                }
            case .ignore:
                break
            }
        }
        return Decision(allowed: deniedBy == nil, deniedBy: deniedBy, bypassed: bypassed, warnings: warnings)
    }

    static func thresholdWarning(_ state: LimitState, _ request: Decimal) -> String {
        let limit = state.applicable.limit
        return "limit \(limit.id) (\(limit.period.rawValue)) past \(limit.warnAt.plainText) of its amount: \(describe(state, request))"
    }

    static func describe(_ state: LimitState, _ request: Decimal) -> String {
        "\((state.spent + state.reserved + request).plainText) of \(state.amount.plainText) \(state.applicable.limit.metric.rawValue)"
    }
}
