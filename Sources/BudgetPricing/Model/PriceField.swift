// The per-token price kinds that are verified across sources.

/// One per-token price of a model. Raw values are the column names used in storage.
public enum PriceField: String, Sendable, Hashable, CaseIterable, Codable {
    case input
    case output
    case cacheRead = "cache_read"
    case cacheWrite = "cache_write"
    case reasoning
    case batchInput = "batch_input"
    case batchOutput = "batch_output"
}
