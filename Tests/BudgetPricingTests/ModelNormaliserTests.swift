// Tests for model-name normalisation, using names found in the fixtures and CROSSCHECK.md.
import Foundation
import Testing
import BudgetPricing

@Suite("ModelNormaliser")
struct ModelNormaliserTests {
    let normaliser = ModelNormaliser()

    struct Case: Sendable, CustomStringConvertible {
        let provider: String?
        let model: String
        let expected: CanonicalModelKey
        var description: String { "\(provider ?? "nil") \(model) → \(expected)" }
    }

    @Test("source spellings map to one canonical key", arguments: [
        // Provider prefixes (LiteLLM, Langfuse) and provider spellings.
        Case(provider: "gemini", model: "gemini/gemini-2.5-pro", expected: key("google", "gemini-2.5-pro")),
        Case(provider: "google", model: "gemini-2.5-pro", expected: key("google", "gemini-2.5-pro")),
        Case(provider: "openai", model: "openai/gpt-4o", expected: key("openai", "gpt-4o")),
        Case(provider: "mistral", model: "mistral/mistral-large-latest", expected: key("mistral", "mistral-large-latest")),
        Case(provider: "mistral-ai", model: "mistral-large-latest", expected: key("mistral", "mistral-large-latest")),
        Case(provider: "x-ai", model: "grok-4", expected: key("xai", "grok-4")),
        Case(provider: "xai", model: "xai/grok-4", expected: key("xai", "grok-4")),
        Case(provider: "cohere_chat", model: "command-r-plus-08-2024", expected: key("cohere", "command-r-plus-08-2024")),
        Case(provider: "together_ai", model: "together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
             expected: key("together_ai", "meta-llama/meta-llama-3.1-70b-instruct-turbo")),
        Case(provider: "together", model: "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
             expected: key("together_ai", "meta-llama/meta-llama-3.1-70b-instruct-turbo")),
        Case(provider: "fireworks_ai", model: "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
             expected: key("fireworks_ai", "llama-v3p1-8b-instruct")),
        Case(provider: "deepbricks", model: "GPT-4o", expected: key("deepbricks", "gpt-4o")),
        Case(provider: " OpenAI ", model: " GPT-4o ", expected: key("openai", "gpt-4o")),
        // Vertex is its own provider, even for Gemini (LiteLLM's bare gemini-2.5-pro).
        Case(provider: "vertex_ai-language-models", model: "gemini-2.5-pro", expected: key("vertex_ai", "gemini-2.5-pro")),
        Case(provider: "vertex-ai", model: "gemini-2.5-pro", expected: key("vertex_ai", "gemini-2.5-pro")),
        // Bedrock: vendor prefix, version suffix, regions.
        Case(provider: "bedrock_converse", model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
             expected: key("bedrock", "claude-sonnet-4-5-20250929")),
        Case(provider: "bedrock_converse", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
             expected: key("bedrock", "claude-sonnet-4-5-20250929", region: "us")),
        Case(provider: "bedrock", model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
             expected: key("bedrock", "claude-sonnet-4-5-20250929", region: "global")),
        Case(provider: "aws", model: "regional.anthropic.claude-sonnet-4-5-20250929-v1:0",
             expected: key("bedrock", "claude-sonnet-4-5-20250929", region: "regional")),
        Case(provider: "bedrock", model: "bedrock/us-gov-west-1/anthropic.claude-sonnet-4-5-20250929-v1:0",
             expected: key("bedrock", "claude-sonnet-4-5-20250929", region: "us-gov-west-1")),
        Case(provider: "bedrock", model: "anthropic.claude-3-5-sonnet-20241022-v2:0", expected: key("bedrock", "claude-3-5-sonnet-20241022")),
        Case(provider: "bedrock", model: "amazon.nova-pro-v1:0", expected: key("bedrock", "nova-pro-v1")),
        Case(provider: "bedrock", model: "us.amazon.nova-pro-v1", expected: key("bedrock", "nova-pro-v1", region: "us")),
        Case(provider: "bedrock", model: "mistral.mistral-large-2407-v1:0", expected: key("bedrock", "mistral-large-2407")),
        Case(provider: "bedrock", model: "meta.llama3-1-405b-instruct-v1:0", expected: key("bedrock", "llama3-1-405b-instruct-v1")),
        // Claude 2.1 and Instant keep their version (the rest would not name the model).
        Case(provider: "bedrock", model: "anthropic.claude-v2:1", expected: key("bedrock", "claude-v2:1")),
        Case(provider: "bedrock", model: "anthropic.claude-instant-v1", expected: key("bedrock", "claude-instant-v1")),
        Case(provider: "bedrock", model: "deepseek.v3-v1:0", expected: key("bedrock", "deepseek.v3")),  // vendor kept: `v3` alone names nothing
        // Azure data zones.
        Case(provider: "azure", model: "azure/eu/gpt-4o", expected: key("azure", "gpt-4o", region: "eu")),
        Case(provider: "azure", model: "azure/gpt-4o", expected: key("azure", "gpt-4o")),
        // Vertex `@` versions; `-v2@date` is Vertex's name for the 20241022 snapshot.
        Case(provider: "vertex_ai-anthropic_models", model: "vertex_ai/claude-sonnet-4-5@20250929",
             expected: key("vertex_ai", "claude-sonnet-4-5-20250929")),
        Case(provider: "vertex-ai", model: "claude-3-5-sonnet-v2@20241022", expected: key("vertex_ai", "claude-3-5-sonnet-20241022")),
        Case(provider: "vertex-ai", model: "claude-3-7-sonnet-v2@20250219", expected: key("vertex_ai", "claude-3-7-sonnet-20250219")),
        Case(provider: "vertex-ai", model: "claude-3-7-sonnet@20250219", expected: key("vertex_ai", "claude-3-7-sonnet-20250219")),
        Case(provider: "vertex_ai", model: "gemini-1.0-pro@001", expected: key("vertex_ai", "gemini-1.0-pro-001")),
        // Dates: all spellings unify, and stay part of the name.
        Case(provider: "openai", model: "gpt-4o-2024-08-06", expected: key("openai", "gpt-4o-20240806")),
        Case(provider: "anthropic", model: "claude-3-5-sonnet@20240620", expected: key("anthropic", "claude-3-5-sonnet-20240620")),
        Case(provider: "anthropic", model: "claude-3-5-sonnet-2024-06-20", expected: key("anthropic", "claude-3-5-sonnet-20240620")),
        // Dots, dashes and word order in Claude names.
        Case(provider: "anthropic", model: "claude-3.5-sonnet", expected: key("anthropic", "claude-3-5-sonnet")),
        Case(provider: "anthropic", model: "claude-sonnet-3-5", expected: key("anthropic", "claude-3-5-sonnet")),
        Case(provider: "anthropic", model: "claude-3.7-sonnet", expected: key("anthropic", "claude-3-7-sonnet")),
        Case(provider: "anthropic", model: "claude-4.5-haiku", expected: key("anthropic", "claude-haiku-4-5")),
        Case(provider: "anthropic", model: "claude-sonnet-4.5", expected: key("anthropic", "claude-sonnet-4-5")),
        Case(provider: "anthropic", model: "claude-opus-4.1", expected: key("anthropic", "claude-opus-4-1")),
        Case(provider: "anthropic", model: "claude-4-sonnet-20250514", expected: key("anthropic", "claude-sonnet-4-20250514")),
        Case(provider: "anthropic", model: "claude-sonnet-4-20250514", expected: key("anthropic", "claude-sonnet-4-20250514")),
        Case(provider: "anthropic", model: "claude-3-opus-20240229", expected: key("anthropic", "claude-3-opus-20240229")),
        Case(provider: "anthropic", model: "claude-2.1", expected: key("anthropic", "claude-2-1")),
        Case(provider: "anthropic", model: "claude-instant-1.2", expected: key("anthropic", "claude-instant-1-2")),
        // OpenRouter: closed vendor models pass through (canonical slug word order too).
        Case(provider: "openrouter", model: "anthropic/claude-4.5-sonnet-20250929", expected: key("anthropic", "claude-sonnet-4-5-20250929")),
        Case(provider: "openrouter", model: "anthropic/claude-3.5-haiku", expected: key("anthropic", "claude-3-5-haiku")),
        Case(provider: "openrouter", model: "openai/gpt-4o", expected: key("openai", "gpt-4o")),
        Case(provider: "openrouter", model: "google/gemini-2.0-flash-001", expected: key("google", "gemini-2.0-flash-001")),
        Case(provider: "openrouter", model: "x-ai/grok-4", expected: key("xai", "grok-4")),
        Case(provider: "openrouter", model: "openai/gpt-oss-120b", expected: key("openrouter", "openai/gpt-oss-120b")),
        Case(provider: "openrouter", model: "google/gemma-3-27b-it", expected: key("openrouter", "google/gemma-3-27b-it")),
        Case(provider: "openrouter", model: "anthropic/claude-3.7-sonnet:thinking", expected: key("openrouter", "anthropic/claude-3-7-sonnet:thinking")),
        Case(provider: "openrouter", model: "meta-llama/llama-3.3-70b-instruct", expected: key("openrouter", "meta-llama/llama-3.3-70b-instruct")),
        Case(provider: "openrouter", model: "openrouter/anthropic/claude-3.5-sonnet", expected: key("anthropic", "claude-3-5-sonnet")),
        Case(provider: "openrouter", model: "amazon/nova-pro-v1", expected: key("bedrock", "nova-pro-v1")),
        // Gemini versions: llm-prices writes a dash for the dot; dates further on are untouched.
        Case(provider: "google", model: "gemini-3-1-pro-preview", expected: key("google", "gemini-3.1-pro-preview")),
        Case(provider: "google", model: "gemini-2.5-flash-preview-05-20", expected: key("google", "gemini-2.5-flash-preview-05-20")),
        // Inferred providers (Langfuse gives none).
        Case(provider: nil, model: "claude-3-haiku-20240307", expected: key("anthropic", "claude-3-haiku-20240307")),
        Case(provider: nil, model: "claude-3.7-sonnet-20250219", expected: key("anthropic", "claude-3-7-sonnet-20250219")),
        Case(provider: nil, model: "gpt-4o-mini-2024-07-18", expected: key("openai", "gpt-4o-mini-20240718")),
        Case(provider: nil, model: "o3", expected: key("openai", "o3")),
        Case(provider: nil, model: "gemini-2.5-pro", expected: key("google", "gemini-2.5-pro")),
        Case(provider: nil, model: "chat-bison", expected: key("vertex_ai", "chat-bison")),
        Case(provider: nil, model: "gemini/gemini-2.5-pro", expected: key("google", "gemini-2.5-pro")),
        Case(provider: nil, model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", expected: key("bedrock", "claude-sonnet-4-5-20250929", region: "us")),
        // The alias table: llm-prices' marketing name for Nova.
        Case(provider: "amazon", model: "amazon-nova-pro", expected: key("bedrock", "nova-pro-v1")),
    ])
    func canonicalKeys(_ example: Case) throws {
        #expect(try normaliser.canonical(provider: example.provider, model: example.model).key == example.expected)
    }

    struct Distinct: Sendable, CustomStringConvertible {
        let provider: String
        let a: String
        let b: String
        var description: String { "\(a) ≠ \(b)" }
    }

    @Test("different models never merge", arguments: [
        // Dated snapshots stay distinct from undated names (they re-point).
        Distinct(provider: "anthropic", a: "claude-sonnet-4-5", b: "claude-sonnet-4-5-20250929"),
        Distinct(provider: "openai", a: "gpt-4o", b: "gpt-4o-2024-08-06"),
        Distinct(provider: "openai", a: "gpt-4o-2024-05-13", b: "gpt-4o-2024-08-06"),
        // Mistral YYMM / Cohere MM-YYYY / OpenAI MMDD suffixes are versions, not dates to strip.
        Distinct(provider: "mistral", a: "mistral-large-2407", b: "mistral-large-2411"),
        Distinct(provider: "mistral", a: "mistral-large-2411", b: "mistral-large-2512"),
        Distinct(provider: "mistral", a: "mistral-large-latest", b: "mistral-large-2512"),
        Distinct(provider: "cohere", a: "command-r-plus", b: "command-r-plus-08-2024"),
        Distinct(provider: "openai", a: "gpt-4", b: "gpt-4-0613"),
        // `-0`, `-001` and `-latest` are their own keys.
        Distinct(provider: "anthropic", a: "claude-sonnet-4", b: "claude-sonnet-4-0"),
        Distinct(provider: "google", a: "gemini-2.0-flash", b: "gemini-2.0-flash-001"),
        Distinct(provider: "anthropic", a: "claude-3-5-sonnet", b: "claude-3-5-sonnet-latest"),
        // Vertex's undated `-v2` is Sonnet 3.5 v2, not the undated (v1-era) name.
        Distinct(provider: "vertex_ai", a: "claude-3-5-sonnet", b: "claude-3-5-sonnet-v2"),
        // Bedrock regions and Claude 2.0 vs 2.1.
        Distinct(provider: "bedrock", a: "anthropic.claude-sonnet-4-5-20250929-v1:0", b: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        Distinct(provider: "bedrock", a: "anthropic.claude-v2", b: "anthropic.claude-v2:1"),
        // Tiers of a family, and OpenRouter's fast/thinking variants.
        Distinct(provider: "anthropic", a: "claude-opus-4-7", b: "claude-opus-4-7-fast"),
        Distinct(provider: "openrouter", a: "anthropic/claude-3.7-sonnet", b: "anthropic/claude-3.7-sonnet:thinking"),
        Distinct(provider: "google", a: "gemini-2.5-flash", b: "gemini-2.5-flash-lite"),
        Distinct(provider: "anthropic", a: "claude-3-haiku", b: "claude-3-5-haiku"),
    ])
    func neverMerges(_ example: Distinct) throws {
        let a = try normaliser.canonical(provider: example.provider, model: example.a).key
        let b = try normaliser.canonical(provider: example.provider, model: example.b).key
        #expect(a != b)
    }

    @Test("kinds: snapshot, undated, moving alias")
    func kinds() throws {
        #expect(try normaliser.canonical(provider: "anthropic", model: "claude-sonnet-4-5-20250929").kind == .snapshot(date: "20250929"))
        #expect(try normaliser.canonical(provider: "openai", model: "gpt-4o-2024-08-06").kind == .snapshot(date: "20240806"))
        #expect(try normaliser.canonical(provider: "mistral", model: "mistral-large-2411").kind == .undated)
        #expect(try normaliser.canonical(provider: "openai", model: "gpt-4-0613").kind == .undated)
        let latest = try normaliser.canonical(provider: "mistral", model: "mistral-large-latest")
        #expect(latest.kind == .alias(of: "mistral-large"))
        #expect(latest.isAlias && latest.aliasTarget == "mistral-large")
        #expect(try normaliser.canonical(provider: "anthropic", model: "claude-3.5-sonnet-latest").kind == .alias(of: "claude-3-5-sonnet"))
        #expect(try normaliser.canonical(provider: "openai", model: "chatgpt-4o-latest").kind == .alias(of: "chatgpt-4o"))
        #expect(try normaliser.canonical(provider: "gemini", model: "gemini/gemini-flash-latest").kind == .alias(of: "gemini-flash"))
        let router = try normaliser.canonical(provider: "openrouter", model: "~anthropic/claude-sonnet-latest")
        #expect(router.key == key("openrouter", "anthropic/claude-sonnet-latest"))
        #expect(router.isAlias)
        #expect(CanonicalModel.alias(of: "x", key: key("p", "x-latest")).aliasTarget == "x")
    }

    @Test("a snapshot knows its undated comparison partner (but is not merged with it)")
    func undatedPartner() throws {
        let dated = try normaliser.canonical(provider: "anthropic", model: "claude-haiku-4-5-20251001")
        #expect(dated.undatedKey == key("anthropic", "claude-haiku-4-5"))
        #expect(try normaliser.canonical(provider: "anthropic", model: "claude-haiku-4-5").undatedKey == nil)
    }

    @Test("the rules that applied are recorded")
    func rules() throws {
        let bedrock = try normaliser.canonical(provider: "bedrock_converse", model: "us.anthropic.claude-3-5-sonnet-20241022-v2:0")
        #expect(bedrock.rules == [.providerAlias, .region, .bedrockVendorPrefix, .bedrockVersionSuffix])
        let openRouter = try normaliser.canonical(provider: "openrouter", model: "anthropic/claude-4.5-sonnet-20250929")
        #expect(openRouter.rules == [.openRouterPassThrough, .claudeVersionDots, .claudeWordOrder])
        #expect(try normaliser.canonical(provider: "openai", model: "gpt-4o").rules.isEmpty)
    }

    @Test("empty names and unknown families are errors, never guesses")
    func errors() {
        #expect(throws: ModelNameError.emptyModel) { try normaliser.canonical(provider: "openai", model: "   ") }
        #expect(throws: ModelNameError.emptyModel) { try normaliser.canonical(provider: "openai", model: "openai/") }
        #expect(throws: ModelNameError.unknownProvider(model: "llama-3.3-70b-versatile")) {
            try normaliser.canonical(provider: nil, model: "llama-3.3-70b-versatile")
        }
    }

    @Test("alias rows are consulted before the rules and can be extended from a table")
    func aliasTable() throws {
        let rows = [ModelAliasRow(provider: "groq", model: "llama3-70b", canonicalProvider: "groq",
                                  canonicalModel: "llama-3.3-70b-versatile", note: "admin: old Groq alias"),
                    ModelAliasRow(provider: nil, model: "my-sonnet", canonicalProvider: "anthropic",
                                  canonicalModel: "claude-sonnet-4-5-20250929", note: "any provider")]
        let custom = ModelNormaliser(aliases: try ModelAliases.builtIn.merging(rows))
        let groq = try custom.canonical(provider: "groq", model: "LLaMA3-70B")
        #expect(groq.key == key("groq", "llama-3.3-70b-versatile"))
        #expect(groq.rules == [.aliasTable])
        #expect(try custom.canonical(provider: "whatever", model: "my-sonnet").kind == .snapshot(date: "20250929"))
        #expect(try custom.canonical(provider: "amazon", model: "amazon-nova-pro").key == key("bedrock", "nova-pro-v1"))  // built-ins kept
        // Without the row the rules apply.
        #expect(try normaliser.canonical(provider: "groq", model: "llama3-70b").key == key("groq", "llama3-70b"))
        // Two rows giving one spelling different targets are refused.
        #expect(throws: ModelAliases.LoadError.conflictingRows(provider: "groq", model: "x")) {
            try ModelAliases(rows: [
                ModelAliasRow(provider: "groq", model: "x", canonicalProvider: "groq", canonicalModel: "a"),
                ModelAliasRow(provider: "groq", model: "X", canonicalProvider: "groq", canonicalModel: "b"),
            ])
        }
    }

    @Test("real fixtures: no source contradicts itself except the known cases")
    func fixtureSweep() throws {
        let sources = try Fixture.currentSources()
        var contradictions: [String] = []
        for (name, result) in sources.sorted(by: { $0.key < $1.key }) {
            for skipped in result.skipped {
                if case .conflictingDuplicate(let other, let fields) = skipped.reason {
                    contradictions.append("\(name): \(skipped.key) vs \(other) \(fields.map(\.rawValue))")
                }
            }
        }
        #expect(contradictions == [
            "portkey: gpt-4o vs GPT-4o [\"input\"]",
            "portkey: gemini-3.1-pro-preview-lte-128k vs gemini-3.1-pro-preview-lte-200k [\"cache_read\"]",
            // tokencost lists deepseek-chat at $0.14/$0.28 and deepseek/deepseek-chat at $0.27/$1.10.
            "tokencost: deepseek/deepseek-chat vs deepseek-chat [\"input\", \"output\"]",
            "tokencost: deepseek-chat vs deepseek/deepseek-chat [\"input\", \"output\"]",
        ])
    }
}
