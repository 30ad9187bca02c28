// A normalised model name with what kind of name it is and which rules produced it.

/// The result of normalising one (provider, model) pair.
public struct CanonicalModel: Sendable, Hashable {
    /// What a name refers to. Dated snapshots, undated names and moving aliases are all
    /// distinct keys: undated names and `-latest` aliases re-point to new snapshots over time.
    public enum Kind: Sendable, Hashable {
        /// A pinned snapshot, e.g. `claude-sonnet-4-5-20250929` (date as `yyyymmdd`).
        case snapshot(date: String)
        /// A name without a date, e.g. `gpt-4o`, `claude-sonnet-4-5`, `mistral-large-2411`.
        case undated
        /// A moving alias (`-latest`, OpenRouter `~vendor/...`) of the named model family.
        /// Sources may resolve it to different snapshots, so their disagreement is a conflict.
        case alias(of: String)
    }

    public let key: CanonicalModelKey
    public let kind: Kind
    /// The rules that changed the name, in order; empty when the input was already canonical.
    public let rules: [NormalisationRule]

    public init(key: CanonicalModelKey, kind: Kind, rules: [NormalisationRule] = []) {
        self.key = key
        self.kind = kind
        self.rules = rules
    }

    /// Shorthand for a moving alias, e.g. `CanonicalModel.alias(of: "mistral-large", key: …)`.
    public static func alias(of family: String, key: CanonicalModelKey, rules: [NormalisationRule] = []) -> CanonicalModel {
        CanonicalModel(key: key, kind: .alias(of: family), rules: rules)
    }

    public var isAlias: Bool {
        if case .alias = kind { return true }
        return false
    }

    /// The family an alias points into (`mistral-large` for `mistral-large-latest`).
    public var aliasTarget: String? {
        if case .alias(let family) = kind { return family }
        return nil
    }

    public var snapshotDate: String? {
        if case .snapshot(let date) = kind { return date }
        return nil
    }

    /// The undated name of a snapshot (`claude-sonnet-4-5` for `claude-sonnet-4-5-20250929`),
    /// for finding comparison partners only: it is a different key and never shares a price
    /// automatically (CROSSCHECK: "fuzzy matches find partners, they never override").
    public var undatedKey: CanonicalModelKey? {
        guard case .snapshot(let date) = kind, key.model.hasSuffix("-" + date) else { return nil }
        return CanonicalModelKey(provider: key.provider, model: String(key.model.dropLast(date.count + 1)), region: key.region)
    }
}
