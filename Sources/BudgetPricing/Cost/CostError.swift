// Why a cost could not be computed exactly.

public enum CostError: Error, Sendable, Hashable {
    /// A token count is negative.
    case negativeCount(PriceField)
    /// Cached tokens exceed the input count that should contain them (OpenAI, Google reports).
    case cachedExceedsInput(input: Int64, cached: Int64)
    /// Reasoning tokens exceed the output count that contains them.
    case reasoningExceedsOutput(output: Int64, reasoning: Int64)
    /// Tokens of a kind were used but the model has no price for it (never priced at $0).
    case missingPrice(PriceField)
    /// A batch request above a long-context threshold: no source states batch long-context prices.
    case noBatchPriceForContextTier(thresholdTokens: Int64)
    /// Counts too large for 64 bits.
    case overflow
}
