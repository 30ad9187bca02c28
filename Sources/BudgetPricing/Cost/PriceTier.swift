// Rhetor's coarse price tiers, from a model's input + output price per 1K tokens.
import Foundation

/// Rhetor's routing tiers, on (input + output) USD per 1K tokens:
/// free (= 0), low (< $0.01), medium (< $0.05), high (≥ $0.05).
public enum PriceTier: String, Sendable, Hashable, Codable, CaseIterable {
    case free, low, medium, high

    /// The tier for per-token input and output prices.
    public static func classify(inputPerToken: Decimal, outputPerToken: Decimal) -> PriceTier {
        let perThousand = (inputPerToken + outputPerToken) * 1000
        if perThousand == 0 { return .free }
        if perThousand < Decimal(string: "0.01")! { return .low }
        if perThousand < Decimal(string: "0.05")! { return .medium }
        return .high
    }

    /// The tier of a price set; nil when input or output is unknown (unknown is not free).
    public init?(prices: PriceSet) {
        guard let input = prices.input, let output = prices.output else { return nil }
        self = Self.classify(inputPerToken: input, outputPerToken: output)
    }
}
