// An entry an adapter could not use, and why.

public struct SkippedEntry: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// The entry is not the expected JSON shape (e.g. not an object).
        case malformedEntry(String)
        /// A price field is not a valid non-negative number.
        case malformedNumber(field: String, value: String)
        /// The entry states no per-token price (image, audio, per-request models).
        case noTokenPrices
        /// The source marks the price as dynamic (OpenRouter `-1`).
        case dynamicPricing
        /// The model name cannot be normalised.
        case invalidModelName(ModelNameError)
        /// Another entry with the same canonical key states the same prices.
        case duplicate(of: String)
        /// Another entry with the same canonical key states different values for `fields`. The
        /// source contradicts itself there (or two models were named alike), so it abstains on
        /// those fields; when input and output both contradict, it abstains on the model.
        case conflictingDuplicate(with: String, fields: [PriceField])
        /// A long-context pseudo-model whose base model is not in the document.
        case contextTierWithoutBase(base: String)
    }

    /// The entry's key or id in the source.
    public var key: String
    public var reason: Reason

    public init(key: String, reason: Reason) {
        self.key = key
        self.reason = reason
    }
}
