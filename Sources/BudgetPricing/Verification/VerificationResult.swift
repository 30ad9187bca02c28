// The verifier's decisions for one model, and the prices to store.
import Foundation

public struct VerificationResult: Sendable, Hashable {
    public var key: CanonicalModelKey
    public var kind: CanonicalModel.Kind
    public var outcomes: [PriceField: PriceOutcome]
    public var status: ModelPriceStatus
    /// The prices to store: new values where accepted, the current value where not.
    /// Context tiers are not cross-verified: they ride with the base price (see `PriceVerifier`).
    public var accepted: PriceSet

    public subscript(field: PriceField) -> PriceOutcome {
        outcomes[field] ?? .noData
    }

    /// Fields whose stored value changes.
    public var changedFields: [PriceField] {
        PriceField.allCases.filter { if case .changed = self[$0] { return true } else { return false } }
    }
}
