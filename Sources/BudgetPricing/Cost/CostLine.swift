// One kind of token in a cost breakdown: count × unit price.
import Foundation

public struct CostLine: Sendable, Hashable {
    /// The price that was applied (`batchInput`/`batchOutput` for batch requests).
    public var field: PriceField
    public var tokens: Int64
    /// USD per token.
    public var unitPrice: Decimal
    public var amount: Decimal

    public init(field: PriceField, tokens: Int64, unitPrice: Decimal, amount: Decimal) {
        self.field = field
        self.tokens = tokens
        self.unitPrice = unitPrice
        self.amount = amount
    }
}
