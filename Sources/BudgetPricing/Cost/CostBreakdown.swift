// The exact cost of one call, line by line, with the pricing choices that were made.
import Foundation

public struct CostBreakdown: Sendable, Hashable {
    public var lines: [CostLine]
    /// Σ lines, exact.
    public var total: Decimal
    /// The long-context tier that priced the request, if its prompt exceeded a threshold.
    public var contextTier: ContextTierPrice?
    public var batch: Bool
    /// Kinds priced at the input price because the model states no price of their own
    /// (cache read/write; as BudgetCore does: never free, but an estimate worth flagging).
    public var inputPriceFallbacks: [PriceField]

    public init(lines: [CostLine], total: Decimal, contextTier: ContextTierPrice?, batch: Bool, inputPriceFallbacks: [PriceField]) {
        self.lines = lines
        self.total = total
        self.contextTier = contextTier
        self.batch = batch
        self.inputPriceFallbacks = inputPriceFallbacks
    }

    public func amount(for field: PriceField) -> Decimal {
        lines.filter { $0.field == field }.reduce(Decimal.zero) { $0 + $1.amount }
    }
}
