// The verifier's decision for one price field of one model.
import Foundation

public enum PriceOutcome: Sendable, Hashable {
    /// A quorum agrees with the current price (within tolerance): keep it as it is.
    case unchanged(Decimal)
    /// A quorum agrees on a new price (or the first price); `provenance` lists the agreeing
    /// independent sources, highest weight first.
    case changed(Decimal, provenance: [SourceValue])
    /// Sources disagree and no group reaches quorum: the current price stays. All independent
    /// values, ascending.
    case conflict([SourceValue])
    /// Only one independent source states the field: usable, with status `single_source`.
    case singleSource(SourceValue)
    /// A lone source would move the current price by more than the policy allows: not applied.
    case rejectedSuspicious(SourceValue, current: Decimal)
    /// No source states the field (the current price, if any, stays).
    case noData

    /// The value to store after this decision, given the current one.
    public func resolved(current: Decimal?) -> Decimal? {
        switch self {
        case .unchanged(let value): value
        case .changed(let value, _): value
        case .singleSource(let sourceValue): sourceValue.value
        case .conflict, .rejectedSuspicious, .noData: current
        }
    }
}
