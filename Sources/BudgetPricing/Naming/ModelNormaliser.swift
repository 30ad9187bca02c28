// Maps every source's (provider, model) spelling to one canonical key, without merging models.

/// Normalises provider and model names from every price source (and from usage records) to one
/// `CanonicalModelKey`.
///
/// Order: explicit alias table → provider spelling → provider prefixes → region → Bedrock and
/// Vertex id forms → date spelling → family-specific spelling (Claude, Gemini) → alias detection.
///
/// Principles (from CROSSCHECK.md):
/// - *Never merge two different models.* Dated snapshots stay distinct from undated names,
///   Mistral/Cohere `-2411`/`-08-2024` suffixes and OpenAI `-0613` suffixes are never touched,
///   `-latest` and `-0` names are their own keys, and regions/data zones go to `key.region`.
/// - Only *spelling* is unified: case, provider prefixes, `@` vs `-`, ISO vs compact dates,
///   dots vs dashes and word order where the vendor itself uses both for the same model.
public struct ModelNormaliser: Sendable {
    /// An OpenRouter author whose closed-weight models OpenRouter resells at the vendor's list
    /// price, so `anthropic/claude-sonnet-4.5` on OpenRouter is evidence for Anthropic's price.
    /// Open-weight models (Gemma, gpt-oss, Llama, DeepSeek, Mistral) are routed to third-party
    /// hosts at OpenRouter's own prices and stay keyed under `openrouter`.
    public struct PassThrough: Sendable, Hashable {
        public var provider: String
        public var modelPrefixes: [String]
        public var excludedPrefixes: [String]

        public init(provider: String, modelPrefixes: [String], excludedPrefixes: [String] = []) {
            self.provider = provider
            self.modelPrefixes = modelPrefixes
            self.excludedPrefixes = excludedPrefixes
        }

        func admits(_ model: String) -> Bool {
            modelPrefixes.contains { model.hasPrefix($0) } && !excludedPrefixes.contains { model.hasPrefix($0) }
        }
    }

    public static let defaultOpenRouterPassThrough: [String: PassThrough] = [
        "openai": PassThrough(provider: "openai", modelPrefixes: ["gpt-", "o1", "o3", "o4", "chatgpt-", "codex-"],
                              excludedPrefixes: ["gpt-oss"]),
        "anthropic": PassThrough(provider: "anthropic", modelPrefixes: ["claude-"]),
        "google": PassThrough(provider: "google", modelPrefixes: ["gemini-"]),
        "x-ai": PassThrough(provider: "xai", modelPrefixes: ["grok-"]),
    ]

    /// Bedrock vendor prefixes and the model families they introduce. A prefix is removed only
    /// when the rest starts with one of its families, so `deepseek.v3-v1:0` keeps its vendor
    /// (the rest, `v3`, would not name the model on its own).
    static let bedrockVendorFamilies: [String: [String]] = [
        "anthropic": ["claude"], "amazon": ["nova", "titan", "rerank"], "meta": ["llama"],
        "mistral": ["mistral", "mixtral", "pixtral", "magistral", "ministral", "devstral", "voxtral", "codestral"],
        "cohere": ["command", "embed", "rerank"], "ai21": ["jamba", "j2"], "openai": ["gpt"], "qwen": ["qwen"],
        "google": ["gemma"], "moonshotai": ["kimi"], "moonshot": ["kimi"], "minimax": ["minimax"],
        "nvidia": ["nemotron"], "writer": ["palmyra"], "xai": ["grok"], "zai": ["glm"], "deepseek": ["deepseek"],
        "stability": ["stable", "sd3"], "twelvelabs": ["marengo", "pegasus"],
    ]

    /// Bedrock cross-region inference-profile prefixes (`us.anthropic.…`).
    static let bedrockRegionPrefixes: Set<String> = ["us", "eu", "apac", "au", "jp", "ca", "global", "us-gov", "regional", "ap"]

    /// Azure OpenAI data-zone path segments (`azure/eu/gpt-4o`).
    static let azureZones: Set<String> = ["eu", "us", "global", "global-standard", "datazone", "data-zone"]

    public var aliases: ModelAliases
    public var openRouterPassThrough: [String: PassThrough]

    public init(aliases: ModelAliases = .builtIn,
                openRouterPassThrough: [String: PassThrough] = ModelNormaliser.defaultOpenRouterPassThrough) {
        self.aliases = aliases
        self.openRouterPassThrough = openRouterPassThrough
    }

    /// The canonical model for a provider's (or source's) spelling. `provider` may be nil when
    /// the caller does not know it (Langfuse); it is then taken from a provider prefix or
    /// inferred from the model family.
    public func canonical(provider rawProvider: String?, model rawModel: String) throws(ModelNameError) -> CanonicalModel {
        var rules: [NormalisationRule] = []
        let trimmed = rawModel.trimmingWhitespace()
        var model = trimmed.lowercased()
        guard !model.isEmpty else { throw .emptyModel }
        if model != rawModel { rules.append(.caseAndSpace) }

        var provider: String?
        if let rawProvider, !rawProvider.trimmingWhitespace().isEmpty {
            let spelled = rawProvider.trimmingWhitespace().lowercased()
            let canonical = ProviderNames.canonical(spelled)
            if canonical != spelled { rules.append(.providerAlias) }
            provider = canonical
        }

        // 1. Explicit aliases win over every rule.
        if let row = aliases.lookup(provider: provider, model: model) {
            return CanonicalModel(key: row.key, kind: Self.kind(ofCanonicalName: row.key.model), rules: [.aliasTable])
        }

        // 2. OpenRouter's `~vendor/…-latest` names are moving aliases.
        var moving = false
        if model.hasPrefix("~") {
            model.removeFirst()
            moving = true
            rules.append(.movingAlias)
        }

        // 3. Provider prefixes: strip `seg/` while it names the key's provider (or, with no
        //    provider given, any known provider, which then becomes the provider). Any other
        //    segment is part of the id (Together's `meta-llama/…`, OpenRouter's authors).
        while let slash = model.firstIndex(of: "/") {
            let segment = String(model[..<slash])
            let rest = String(model[model.index(after: slash)...])
            let namesProvider = provider.map { ProviderNames.canonical(segment) == $0 } ?? ProviderNames.isKnown(segment)
            if namesProvider {
                provider = ProviderNames.canonical(segment)
                model = rest
                rules.append(.providerPrefix)
                if provider == "fireworks_ai", model.hasPrefix("accounts/fireworks/models/") {
                    model.removeFirst("accounts/fireworks/models/".count)
                }
                continue
            }
            if provider == "openrouter", !moving, !rest.contains(":"),
               let passThrough = openRouterPassThrough[segment], passThrough.admits(rest) {
                provider = passThrough.provider
                model = rest
                rules.append(.openRouterPassThrough)
                continue
            }
            break
        }
        guard !model.isEmpty else { throw .emptyModel }

        // 4. Bedrock ids carry their own shape: infer it before the family-based inference.
        if provider == nil, Self.looksLikeBedrockID(model) {
            provider = "bedrock"
            rules.append(.inferredProvider)
        }
        if provider == nil {
            guard let inferred = ProviderNames.inferred(fromModel: model) else { throw .unknownProvider(model: model) }
            provider = inferred
            rules.append(.inferredProvider)
        }
        let resolvedProvider = provider ?? ""

        // 5. Regions and data zones move into the key (they are priced differently).
        var region: String?
        if resolvedProvider == "bedrock" {
            if let slash = model.firstIndex(of: "/") {
                let segment = String(model[..<slash])
                if segment == "*" || Self.isAWSRegion(segment) {
                    region = segment
                    model = String(model[model.index(after: slash)...])
                    rules.append(.region)
                }
            }
            if let dot = model.firstIndex(of: "."), !model[..<dot].contains("/"),
               Self.bedrockRegionPrefixes.contains(String(model[..<dot])) {
                let rest = model[model.index(after: dot)...]
                // Only a prefix when a vendor id follows (`us.anthropic.claude…`).
                if rest.contains(".") {
                    region = String(model[..<dot])
                    model = String(rest)
                    rules.append(.region)
                }
            }
        } else if resolvedProvider == "azure", let slash = model.firstIndex(of: "/"),
                  Self.azureZones.contains(String(model[..<slash])) {
            region = String(model[..<slash])
            model = String(model[model.index(after: slash)...])
            rules.append(.region)
        }

        // The remaining rules rewrite the last path segment only; earlier segments are part of
        // the id (`meta-llama/…` on Together, `anthropic/…` under OpenRouter).
        var head = ""
        var name = model
        if let slash = model.lastIndex(of: "/") {
            head = String(model[...slash])
            name = String(model[model.index(after: slash)...])
        }

        // 6. Bedrock: `anthropic.claude-…-20250929-v1:0` → `claude-…-20250929`.
        if resolvedProvider == "bedrock" {
            if let dot = name.firstIndex(of: ".") {
                let vendor = String(name[..<dot])
                let rest = String(name[name.index(after: dot)...])
                if let families = Self.bedrockVendorFamilies[vendor], families.contains(where: { rest.hasPrefix($0) }) {
                    name = rest
                    rules.append(.bedrockVendorPrefix)
                }
            }
            if name.hasSuffix(":0") {
                name.removeLast(2)
                rules.append(.bedrockVersionSuffix)
            }
            if let stripped = Self.strippingVersionAfterDigit(name) {
                name = stripped
                if rules.last != .bedrockVersionSuffix { rules.append(.bedrockVersionSuffix) }
            }
        }

        // OpenRouter variants (`:free`, `:thinking`) are distinct offerings: set them aside while
        // the base name is normalised, then put them back. Fine-tune ids (`ft:…`) are left alone.
        var variant = ""
        if resolvedProvider != "bedrock", !name.hasPrefix("ft:"), let colon = name.lastIndex(of: ":") {
            variant = String(name[colon...])
            name = String(name[..<colon])
        }

        // 7. Vertex `@version`: `claude-3-5-sonnet-v2@20241022` → `claude-3-5-sonnet-20241022`
        //    (the date pins the snapshot; `-v2` only distinguished Vertex's undated names).
        if let at = name.firstIndex(of: "@") {
            var base = String(name[..<at])
            let version = String(name[name.index(after: at)...])
            if Self.isCompactDate(version), let stripped = Self.strippingTrailingVersionTag(base) { base = stripped }
            name = base + "-" + version
            rules.append(.vertexVersionSuffix)
        }

        // 8. ISO date suffix `-2024-08-06` → `-20240806` (the date is kept, only its spelling changes).
        if let rewritten = Self.compactingISODateSuffix(name) {
            name = rewritten
            rules.append(.isoDate)
        }

        // 9. Family spelling.
        if name.hasPrefix("claude-") {
            let (rewritten, applied) = Self.canonicalClaude(name)
            name = rewritten
            rules.append(contentsOf: applied)
        } else if name.hasPrefix("gemini-"), let rewritten = Self.dottedGeminiVersion(name) {
            name = rewritten
            rules.append(.geminiVersionDots)
        }

        // 10. Moving aliases.
        var family: String?
        if name.hasSuffix("-latest") {
            family = head + String(name.dropLast("-latest".count))
            if !moving { rules.append(.movingAlias) }
            moving = true
        } else if moving {
            family = head + name
        }

        let canonicalName = head + name + variant
        let key = CanonicalModelKey(provider: resolvedProvider, model: canonicalName, region: region)
        if moving, let family { return CanonicalModel(key: key, kind: .alias(of: family), rules: rules) }
        return CanonicalModel(key: key, kind: variant.isEmpty ? Self.kind(ofCanonicalName: name) : .undated, rules: rules)
    }

    // MARK: - Rules

    /// `.snapshot` when the name ends in a compact date, `.alias` for `-latest`, else `.undated`.
    static func kind(ofCanonicalName name: String) -> CanonicalModel.Kind {
        if name.hasSuffix("-latest") { return .alias(of: String(name.dropLast("-latest".count))) }
        if let dash = name.lastIndex(of: "-") {
            let tail = String(name[name.index(after: dash)...])
            if isCompactDate(tail) { return .snapshot(date: tail) }
        }
        return .undated
    }

    /// `yyyymmdd` with a plausible year (2000–2099), month and day.
    static func isCompactDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 8, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
        let digits = bytes.map { Int($0 - 48) }
        let year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
        let month = digits[4] * 10 + digits[5]
        let day = digits[6] * 10 + digits[7]
        return (2000...2099).contains(year) && (1...12).contains(month) && (1...31).contains(day)
    }

    static func isAWSRegion(_ segment: String) -> Bool {
        // e.g. us-east-1, ap-northeast-1, us-gov-west-1, eu-central-2
        let parts = segment.split(separator: "-")
        guard parts.count == 3 || (parts.count == 4 && parts[1] == "gov") else { return false }
        guard parts[0].count == 2, parts[0].allSatisfy(\.isLetter),
              let last = parts.last, last.allSatisfy(\.isNumber) else { return false }
        return true
    }

    /// `us.anthropic.claude…`, `anthropic.claude…`, `amazon.nova…`: a known vendor (optionally after
    /// a region) followed by one of its families.
    static func looksLikeBedrockID(_ model: String) -> Bool {
        var parts = model.split(separator: ".", maxSplits: 2).map(String.init)
        if parts.count == 3, bedrockRegionPrefixes.contains(parts[0]) { parts.removeFirst() } else if parts.count == 3 {
            parts = [parts[0], parts[1] + "." + parts[2]]
        }
        guard parts.count == 2, let families = bedrockVendorFamilies[parts[0]] else { return false }
        return families.contains { parts[1].hasPrefix($0) }
    }

    /// Removes a trailing `-vN` when a digit precedes it (`…-20250929-v1`, `mistral-large-2407-v1`):
    /// there it is Bedrock's revision of a fully named model. `claude-instant-v1`, `claude-v2` and
    /// `nova-pro-v1` keep it, because without it the name would lose its version.
    static func strippingVersionAfterDigit(_ name: String) -> String? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let tail = name[name.index(after: dash)...]
        guard tail.count >= 2, tail.first == "v", tail.dropFirst().allSatisfy(\.isNumber) else { return nil }
        let before = name[..<dash]
        guard let last = before.last, last.isNumber else { return nil }
        return String(before)
    }

    /// `claude-3-5-sonnet-v2` → `claude-3-5-sonnet` (used only before a Vertex `@date`).
    static func strippingTrailingVersionTag(_ name: String) -> String? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let tail = name[name.index(after: dash)...]
        guard tail.count >= 2, tail.first == "v", tail.dropFirst().allSatisfy(\.isNumber) else { return nil }
        return String(name[..<dash])
    }

    /// `gpt-4o-2024-08-06` → `gpt-4o-20240806`; nil when the name has no valid ISO date suffix.
    /// Two-part suffixes (`-05-20`, `-08-2024`, `-0613`, `-2411`) are not dates we can complete
    /// and are left alone.
    static func compactingISODateSuffix(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard bytes.count > 11 else { return nil }
        let start = bytes.count - 11
        let suffix = Array(bytes[start...])
        let dash = UInt8(ascii: "-")
        guard suffix[0] == dash, suffix[5] == dash, suffix[8] == dash else { return nil }
        let digits = suffix[1...4] + suffix[6...7] + suffix[9...10]
        guard digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let compact = String(decoding: digits, as: UTF8.self)
        guard isCompactDate(compact) else { return nil }
        return String(decoding: bytes[..<start], as: UTF8.self) + "-" + compact
    }

    static let claudeTiers: Set<String> = ["opus", "sonnet", "haiku"]

    /// Anthropic writes version numbers with dashes (`claude-3-5-sonnet`, `claude-opus-4-1`) and
    /// put the tier after the version up to Claude 3.x but before it from Claude 4 on. Sources
    /// mix both (`claude-3.5-sonnet`, `claude-4.5-haiku`, `claude-4-sonnet-20250514`,
    /// OpenRouter's `claude-4.5-sonnet-20250929`). The canonical form is Anthropic's own for that
    /// generation: `claude-<major>[-<minor>]-<tier>` for major < 4, `claude-<tier>-<major>[-<minor>]`
    /// otherwise. Only opus/sonnet/haiku are reordered; a minor is 1–2 digits, so a date
    /// (`claude-sonnet-4-20250514`) is never taken for one, and `-0` (`claude-sonnet-4-0`) is kept.
    static func canonicalClaude(_ input: String) -> (String, [NormalisationRule]) {
        var rules: [NormalisationRule] = []
        var name = input
        // Version dots → dashes: `claude-3.5-sonnet`, `claude-opus-4.1`.
        var scalars = Array(name.unicodeScalars)
        var changedDots = false
        for i in scalars.indices where scalars[i] == "." && i > 0 && i + 1 < scalars.count
            && scalars[i - 1].properties.numericType != nil && scalars[i + 1].properties.numericType != nil {
            scalars[i] = "-"
            changedDots = true
        }
        if changedDots {
            name = String(String.UnicodeScalarView(scalars))
            rules.append(.claudeVersionDots)
        }

        let tokens = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        func isVersion(_ token: String) -> Bool { (1...2).contains(token.count) && token.allSatisfy(\.isNumber) }
        var major: String?, minor: String?, tier: String?, restStart = 0
        if tokens.count >= 3, isVersion(tokens[1]) {
            // claude-<major>[-<minor>]-<tier>…
            if tokens.count >= 4, isVersion(tokens[2]), claudeTiers.contains(tokens[3]) {
                (major, minor, tier, restStart) = (tokens[1], tokens[2], tokens[3], 4)
            } else if claudeTiers.contains(tokens[2]) {
                (major, tier, restStart) = (tokens[1], tokens[2], 3)
            }
        } else if tokens.count >= 3, claudeTiers.contains(tokens[1]), isVersion(tokens[2]) {
            // claude-<tier>-<major>[-<minor>]…
            if tokens.count >= 4, isVersion(tokens[3]) {
                (major, minor, tier, restStart) = (tokens[2], tokens[3], tokens[1], 4)
            } else {
                (major, tier, restStart) = (tokens[2], tokens[1], 3)
            }
        }
        guard let major, let tier, let majorNumber = Int(major) else { return (name, rules) }
        let version = [major] + (minor.map { [$0] } ?? [])
        let ordered = majorNumber >= 4 ? ["claude", tier] + version : ["claude"] + version + [tier]
        let rebuilt = (ordered + tokens[restStart...]).joined(separator: "-")
        if rebuilt != name {
            rules.append(.claudeWordOrder)
            name = rebuilt
        }
        return (name, rules)
    }

    /// Google writes Gemini versions with a dot (`gemini-3.1-pro-preview`); llm-prices writes
    /// `gemini-3-1-pro-preview`. Only the version right after `gemini-` is touched, so dates such
    /// as `-05-20` later in the name are left alone.
    static func dottedGeminiVersion(_ name: String) -> String? {
        let tokens = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard tokens.count >= 3, tokens[0] == "gemini",
              (1...2).contains(tokens[1].count), tokens[1].allSatisfy(\.isNumber),
              (1...2).contains(tokens[2].count), tokens[2].allSatisfy(\.isNumber) else { return nil }
        return (["gemini", tokens[1] + "." + tokens[2]] + tokens[3...]).joined(separator: "-")
    }
}
