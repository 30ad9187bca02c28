// From a sync's verification results to the price versions to write: pure, so the dry run and
// the real run decide identically.
import BudgetCore
import Foundation

/// A model's current price as the planner needs it.
public struct CurrentPrice: Sendable, Hashable {
    public var prices: PriceSet
    /// `manual` prices are overrides: sources never replace them.
    public var status: String

    public init(prices: PriceSet, status: String) {
        self.prices = prices
        self.status = status
    }
}

public struct PlannedPriceChange: Sendable, Hashable {
    public var key: CanonicalModelKey
    public var old: PriceSet?
    public var new: PriceSet
    public var status: ModelPriceStatus
    /// Per field, the sources whose values decided it.
    public var provenance: [PriceField: [SourceValue]]
}

public struct PriceUpdatePlan: Sendable {
    public var changes: [PlannedPriceChange] = []
    public var conflicts: [VerificationResult] = []
    public var unchanged = 0
    /// Models with a manual override, left alone.
    public var overridden = 0

    /// The fields a price version stores.
    static let storedFields: [PriceField] = [.input, .output, .cacheRead, .cacheWrite, .reasoning, .batchInput, .batchOutput]

    /// Regional variants (Bedrock `us.`, Azure data zones) are planned like any model; they are
    /// stored under their own provider key (`CanonicalModelKey.storedProvider`, `bedrock[us]`).
    public static func make(results: [CanonicalModelKey: VerificationResult], current: [CanonicalModelKey: CurrentPrice]) -> PriceUpdatePlan {
        var plan = PriceUpdatePlan()
        for key in results.keys.sorted() {
            let result = results[key]!
            if result.status == .conflict { plan.conflicts.append(result) }
            let existing = current[key]
            if existing?.status == "manual" {
                plan.overridden += 1
                continue
            }
            var new = existing?.prices ?? PriceSet()
            var provenance: [PriceField: [SourceValue]] = [:]
            for field in storedFields {
                let outcome = result[field]
                new[field] = outcome.resolved(current: existing?.prices[field])
                switch outcome {
                case .changed(_, let sources): provenance[field] = sources
                case .singleSource(let source): provenance[field] = [source]
                default: break
                }
            }
            guard new[.input] != nil, new[.output] != nil else { continue }
            new.contextTiers = result.accepted.contextTiers
            new.timesOfDay = result.accepted.timesOfDay
            if let existing, storedFields.allSatisfy({ existing.prices[$0] == new[$0] }), existing.prices.contextTiers == new.contextTiers,
               existing.prices.timesOfDay == new.timesOfDay {
                plan.unchanged += 1
                continue
            }
            plan.changes.append(PlannedPriceChange(key: key, old: existing?.prices, new: new, status: result.status, provenance: provenance))
        }
        return plan
    }
}
