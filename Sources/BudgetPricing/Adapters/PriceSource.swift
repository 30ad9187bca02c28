// Namespace for the catalogue adapters (one per file, `PriceSource+<Name>.swift`).

/// The catalogue adapters: `PriceSource.LiteLLM`, `.LLMPrices`, `.GenAIPrices`, `.Langfuse`,
/// `.Portkey`, `.OpenRouter`.
public enum PriceSource {}
