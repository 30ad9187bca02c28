// How a provider's usage report counts cached and reasoning tokens.

/// What the counts in a provider's usage report include.
public enum UsageConvention: String, Sendable, Hashable, Codable, CaseIterable {
    /// OpenAI (and OpenAI-compatible APIs): `prompt_tokens` INCLUDES cached tokens
    /// (`prompt_tokens_details.cached_tokens`), and `completion_tokens` INCLUDES reasoning tokens
    /// (`completion_tokens_details.reasoning_tokens`). A cache-write count, if reported, is also
    /// inside the prompt count.
    case openAI = "openai"
    /// Anthropic: `input_tokens` EXCLUDES `cache_read_input_tokens` and
    /// `cache_creation_input_tokens`, which are reported apart; `output_tokens` includes thinking.
    case anthropic
    /// Google Gemini: `promptTokenCount` INCLUDES `cachedContentTokenCount`, but
    /// `candidatesTokenCount` EXCLUDES `thoughtsTokenCount` (thoughts are reported apart).
    case google
    /// Already disjoint input/cache counts with reasoning inside output (Budget's own form).
    case normalised
}
