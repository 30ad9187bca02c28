// The named rules the model normaliser can apply, recorded for traceability.

/// A normalisation step, recorded on each `CanonicalModel` so the sync job can show how a
/// source's name was matched (CROSSCHECK: "record which rule matched").
public enum NormalisationRule: String, Sendable, Hashable, Codable {
    /// An explicit `ModelAliases` entry decided the key; no other rule ran.
    case aliasTable = "alias_table"
    /// The provider spelling was mapped to the canonical provider (`gemini` → `google`).
    case providerAlias = "provider_alias"
    /// The provider was not given and was inferred from the model family (`claude-…` → anthropic).
    case inferredProvider = "inferred_provider"
    /// A routing prefix naming the same provider was removed (`gemini/gemini-2.5-pro`).
    case providerPrefix = "provider_prefix"
    /// An OpenRouter id of a closed-weight vendor was keyed to that vendor.
    case openRouterPassThrough = "openrouter_pass_through"
    /// A region or data-zone prefix was moved from the name into the key's region.
    case region
    /// A Bedrock vendor prefix (`anthropic.`) was removed.
    case bedrockVendorPrefix = "bedrock_vendor_prefix"
    /// A Bedrock version/revision suffix (`-v1:0`, `:0`) was removed.
    case bedrockVersionSuffix = "bedrock_version_suffix"
    /// A Vertex `@date` / `-vN@date` suffix was rewritten as `-date`.
    case vertexVersionSuffix = "vertex_version_suffix"
    /// An ISO date suffix `-2024-08-06` was written as `-20240806`.
    case isoDate = "iso_date"
    /// Version dots were written as dashes in a Claude name (`claude-3.5-sonnet`).
    case claudeVersionDots = "claude_version_dots"
    /// Claude words were put in Anthropic's order for that generation.
    case claudeWordOrder = "claude_word_order"
    /// A Gemini version written with a dash was written with a dot (`gemini-3-1-pro`).
    case geminiVersionDots = "gemini_version_dots"
    /// The name was recognised as a moving alias.
    case movingAlias = "moving_alias"
    /// Letters were lower-cased or whitespace trimmed.
    case caseAndSpace = "case_and_space"
}
