// Which Apollo tier a call falls in: by model name, then component, then provider, else
// remote_heavyweight (Apollo's `_determine_tier`). Unlike Apollo, a model is also found under
// its base name: dated snapshots (`claude-3-opus-20240229`), `-latest` aliases, Ollama tags
// (`codellama:13b`), a provider prefix (`anthropic/…`) and dashed versions (`claude-3-5-sonnet`
// for Apollo's `claude-3.5-sonnet`) resolve like the name in Apollo's table.
import Foundation

public struct ApolloTierResolver: Sendable {
    public enum Source: String, Sendable, Codable {
        case model, component, provider
        case `default`
        /// The caller named the tier.
        case caller
    }

    public struct Resolution: Sendable, Hashable {
        public var tier: ApolloTier
        public var source: Source
        /// The table entry that matched (the normalised model name, component or provider).
        public var matched: String?

        public init(tier: ApolloTier, source: Source, matched: String?) {
            self.tier = tier
            self.source = source
            self.matched = matched
        }
    }

    /// Apollo's `model_tiers` (lower-case keys).
    public static let defaultModelTiers: [String: ApolloTier] = [
        "codellama": .localLightweight, "deepseek-coder": .localLightweight, "starcoder": .localLightweight,
        "claude-haiku": .localMidweight, "claude-3-haiku": .localMidweight, "llama-3": .localMidweight,
        "mistral": .localMidweight, "qwen": .localMidweight,
        "gpt-4": .remoteHeavyweight, "claude-3-opus": .remoteHeavyweight, "claude-3-sonnet": .remoteHeavyweight,
        "claude-3.5-sonnet": .remoteHeavyweight, "claude-3.7-sonnet": .remoteHeavyweight,
    ]

    /// Apollo's `provider_tiers` (lower-case keys).
    public static let defaultProviderTiers: [String: ApolloTier] = [
        "openai": .remoteHeavyweight, "anthropic": .remoteHeavyweight, "ollama": .localMidweight, "local": .localLightweight,
    ]

    public var modelTiers: [String: ApolloTier]
    /// Apollo starts with no component tiers (they are set at run time); exact, case-sensitive keys as in Apollo.
    public var componentTiers: [String: ApolloTier]
    public var providerTiers: [String: ApolloTier]

    public init(modelTiers: [String: ApolloTier] = Self.defaultModelTiers, componentTiers: [String: ApolloTier] = [:],
                providerTiers: [String: ApolloTier] = Self.defaultProviderTiers) {
        self.modelTiers = modelTiers
        self.componentTiers = componentTiers
        self.providerTiers = providerTiers
    }

    public func resolve(model: String?, component: String?, provider: String?) -> Resolution {
        if let model {
            for candidate in Self.modelCandidates(model) {
                if let tier = modelTiers[candidate] { return Resolution(tier: tier, source: .model, matched: candidate) }
            }
        }
        if let component, let tier = componentTiers[component] {
            return Resolution(tier: tier, source: .component, matched: component)
        }
        if let key = provider.map({ $0.trimmingWhitespace().lowercased() }), let tier = providerTiers[key] {
            return Resolution(tier: tier, source: .provider, matched: key)
        }
        return Resolution(tier: .remoteHeavyweight, source: .default, matched: nil)
    }

    /// The names a model is looked up under, most literal first: the lower-cased name, then the
    /// name without provider prefix, tag and date/`-latest` suffix, then with dashed versions
    /// written with a dot (`claude-3-5-sonnet` → `claude-3.5-sonnet`).
    public static func modelCandidates(_ model: String) -> [String] {
        var candidates: [String] = []
        func add(_ name: String) { if !name.isEmpty && !candidates.contains(name) { candidates.append(name) } }
        var name = model.trimmingWhitespace().lowercased()
        add(name)
        if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
        if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }   // ollama tag: codellama:13b
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }          // vertex: claude-3-opus@20240229
        name = stripSnapshotSuffix(name)
        add(name)
        add(dottedVersions(name))
        return candidates
    }

    /// Removes a trailing `-latest`, `-YYYYMMDD` or `-YYYY-MM-DD` (repeatedly: `-20240229-latest`).
    static func stripSnapshotSuffix(_ name: String) -> String {
        var parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        func isDigits(_ s: String, _ count: Int) -> Bool { s.count == count && s.allSatisfy(\.isASCIIDigit) }
        while parts.count > 1 {
            if parts.last == "latest" {
                parts.removeLast()
            } else if isDigits(parts.last!, 8) {
                parts.removeLast()
            } else if parts.count > 3, isDigits(parts[parts.count - 1], 2), isDigits(parts[parts.count - 2], 2), isDigits(parts[parts.count - 3], 4) {
                parts.removeLast(3)
            } else {
                break
            }
        }
        return parts.joined(separator: "-")
    }

    /// `claude-3-5-sonnet` → `claude-3.5-sonnet`: a one-digit part directly after a one-digit
    /// version part is its minor version. Longer numbers (`gpt-4-0613`) are left alone.
    static func dottedVersions(_ name: String) -> String {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return name }
        var result = [parts[0]]
        for part in parts.dropFirst() {
            if let last = result.last, last.count == 1, last.allSatisfy(\.isASCIIDigit), part.count == 1, part.allSatisfy(\.isASCIIDigit) {
                result[result.count - 1] = last + "." + part
            } else {
                result.append(part)
            }
        }
        return result.joined(separator: "-")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
