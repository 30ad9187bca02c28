// Canonical spellings of serving providers, and which provider a bare model family belongs to.

/// Maps every source's provider spelling to one canonical provider name.
///
/// The canonical provider is *who serves and bills the call*, because the same model costs
/// different amounts on different hosts (CROSSCHECK, consequence 1). Spellings are merged only
/// when they name the same service with the same price list:
/// - `gemini`, `google`, `googleai`, `google-gla` → `google`: all are the Gemini API / Google AI
///   Studio (LiteLLM calls it `gemini`, genai-prices, Portkey and llm-prices `google`, Langfuse
///   `google(ai)/`).
/// - `vertex_ai`, `vertex_ai-*`, `vertex-ai`, `google-vertex` → `vertex_ai`: Vertex AI is a
///   different service (regional endpoints, its own SKUs and price list, `@version` ids), so it is
///   NOT merged with `google` even though both sell Gemini. LiteLLM's bare `gemini-2.5-pro` is a
///   Vertex entry and must not vote on AI Studio's price.
/// - `bedrock`, `bedrock_converse`, `aws`, `amazon-bedrock` → `bedrock`: one service, two APIs.
///   `amazon` (llm-prices' vendor for Nova, sold only on Bedrock) → `bedrock`.
///   `bedrock_mantle` (Bedrock's OpenAI-compatible endpoint, separately priced) stays apart.
/// - `azure`, `azure_text`, `azure-openai` → `azure` (Azure OpenAI); `azure_ai` (Foundry models)
///   is a different catalogue and stays apart.
/// - `cohere_chat` → `cohere`, `x-ai` → `xai`, `mistral-ai`/`mistralai` → `mistral`,
///   `together`/`together-ai` → `together_ai`, `fireworks`/`fireworks-ai` → `fireworks_ai`.
/// Unknown spellings are kept (lower-cased), never guessed.
public enum ProviderNames {
    static let table: [String: String] = [
        "openai": "openai", "text-completion-openai": "openai", "openai_api": "openai",
        "anthropic": "anthropic",
        "gemini": "google", "google": "google", "googleai": "google", "google_ai_studio": "google",
        "google-ai-studio": "google", "google-gla": "google",
        "vertex_ai": "vertex_ai", "vertex-ai": "vertex_ai", "vertexai": "vertex_ai", "vertex_ai_beta": "vertex_ai",
        "google-vertex": "vertex_ai", "google_vertex": "vertex_ai", "google-vertex-anthropic": "vertex_ai",
        "bedrock": "bedrock", "bedrock_converse": "bedrock", "aws": "bedrock", "aws_bedrock": "bedrock",
        "amazon-bedrock": "bedrock", "amazon_bedrock": "bedrock", "amazon": "bedrock",
        "azure": "azure", "azure_text": "azure", "azure-openai": "azure", "azure_openai": "azure",
        "azure_ai": "azure_ai", "azure-ai": "azure_ai",
        "mistral": "mistral", "mistralai": "mistral", "mistral-ai": "mistral", "mistral_ai": "mistral",
        "xai": "xai", "x-ai": "xai", "x_ai": "xai",
        "deepseek": "deepseek",
        "groq": "groq",
        "together_ai": "together_ai", "together-ai": "together_ai", "together": "together_ai", "togetherai": "together_ai",
        "fireworks_ai": "fireworks_ai", "fireworks-ai": "fireworks_ai", "fireworks": "fireworks_ai",
        "cohere": "cohere", "cohere_chat": "cohere",
        "perplexity": "perplexity", "perplexity-ai": "perplexity",
        "openrouter": "openrouter",
        "deepinfra": "deepinfra",
        "cerebras": "cerebras",
        "moonshot": "moonshot", "moonshotai": "moonshot", "moonshot-ai": "moonshot",
        "meta": "meta", "meta-ai": "meta", "meta_llama": "meta",
        "novita": "novita", "novita-ai": "novita",
    ]

    /// The canonical provider for a spelling (trimmed, lower-cased); unknown spellings are
    /// returned lower-cased. LiteLLM's `vertex_ai-<family>_models` all map to `vertex_ai`.
    public static func canonical(_ raw: String) -> String {
        let name = raw.trimmingWhitespace().lowercased()
        if let known = table[name] { return known }
        if name.hasPrefix("vertex_ai-") { return "vertex_ai" }
        return name
    }

    /// Whether `segment` (a path prefix such as `gemini` in `gemini/gemini-2.5-pro`) names a
    /// provider. Only such prefixes are ever stripped: Together's `meta-llama/…` is part of the id.
    public static func isKnown(_ segment: String) -> Bool {
        table[segment] != nil || segment.hasPrefix("vertex_ai-")
    }

    /// The provider that sells a model family under its own name, for callers (Langfuse, a
    /// bare usage record) that give no provider. Nil when the family is not first-party.
    public static func inferred(fromModel model: String) -> String? {
        let m = model
        if m.hasPrefix("claude") { return "anthropic" }
        let openAI = ["gpt-", "chatgpt-", "o1", "o3", "o4", "text-embedding-", "text-davinci-", "text-ada-",
                      "text-babbage-", "text-curie-", "davinci-", "babbage-", "ft:gpt-", "ft:davinci-",
                      "ft:babbage-", "dall-e", "whisper", "tts-", "omni-moderation", "codex-"]
        if openAI.contains(where: { m.hasPrefix($0) }) { return "openai" }
        if m.hasPrefix("gemini") { return "google" }
        // PaLM 2 models with `@version` are Vertex AI ids.
        let vertex = ["chat-bison", "codechat-bison", "text-bison", "code-bison", "text-unicorn",
                      "textembedding-gecko", "code-gecko"]
        if vertex.contains(where: { m.hasPrefix($0) }) { return "vertex_ai" }
        if m.hasPrefix("grok") { return "xai" }
        let mistral = ["mistral", "open-mistral", "open-mixtral", "codestral", "pixtral", "magistral",
                       "ministral", "devstral", "voxtral"]
        if mistral.contains(where: { m.hasPrefix($0) }) { return "mistral" }
        if m.hasPrefix("deepseek") { return "deepseek" }
        if m.hasPrefix("command") { return "cohere" }
        return nil
    }
}
