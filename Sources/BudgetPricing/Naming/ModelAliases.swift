// The explicit alias table the normaliser consults before any rule.

/// Explicit (provider, model) → canonical key entries. Consulted before the rules, so an admin
/// can fix any name the rules get wrong. Loadable from rows (a database table later).
public struct ModelAliases: Sendable {
    struct LookupKey: Hashable {
        let provider: String?
        let model: String
    }

    public enum LoadError: Error, Sendable, Hashable {
        /// Two rows give the same spelling different targets.
        case conflictingRows(provider: String?, model: String)
        case emptyModel
    }

    private let entries: [LookupKey: ModelAliasRow]

    public var rows: [ModelAliasRow] { Array(entries.values) }

    public init(rows: [ModelAliasRow]) throws(LoadError) {
        var entries: [LookupKey: ModelAliasRow] = [:]
        for row in rows {
            let key = Self.lookupKey(provider: row.provider, model: row.model)
            guard !key.model.isEmpty else { throw .emptyModel }
            if let existing = entries[key], existing.key != row.key {
                throw .conflictingRows(provider: key.provider, model: key.model)
            }
            entries[key] = row
        }
        self.entries = entries
    }

    public static let empty: ModelAliases = try! ModelAliases(rows: [])

    /// These rows, then `rows` on top (a later row for the same spelling replaces an earlier one),
    /// e.g. the built-in table extended by an admin's database rows.
    public func merging(_ rows: [ModelAliasRow]) throws(LoadError) -> ModelAliases {
        var byKey: [LookupKey: ModelAliasRow] = entries
        for row in rows {
            let key = Self.lookupKey(provider: row.provider, model: row.model)
            guard !key.model.isEmpty else { throw .emptyModel }
            byKey[key] = row
        }
        return try ModelAliases(rows: Array(byKey.values))
    }

    /// The row for this spelling: an exact provider match first, then a provider-agnostic row.
    public func lookup(provider: String?, model: String) -> ModelAliasRow? {
        let exact = Self.lookupKey(provider: provider, model: model)
        if let row = entries[exact] { return row }
        return entries[LookupKey(provider: nil, model: exact.model)]
    }

    static func lookupKey(provider: String?, model: String) -> LookupKey {
        let provider = provider.map { ProviderNames.canonical($0) }.flatMap { $0.isEmpty ? nil : $0 }
        return LookupKey(provider: provider, model: model.trimmingWhitespace().lowercased())
    }

    /// Aliases that no general rule can derive, each checked against the fixtures. Deliberately
    /// absent: OpenRouter's `meta-llama/llama-3.3-70b-instruct` → Groq's `llama-3.3-70b-versatile`
    /// (CROSSCHECK hand-aliased it for comparison, but OpenRouter's $0.10/$0.32 is its own routed
    /// price, not Groq's $0.59/$0.79), and undated → dated Claude names (they re-point).
    public static let builtIn: ModelAliases = {
        var rows: [ModelAliasRow] = []
        // llm-prices names Amazon Nova by marketing name; Nova is sold only on Bedrock, whose id is
        // `amazon.nova-<size>-v1:0` (canonical `nova-<size>-v1`).
        for size in ["micro", "lite", "pro", "premier"] {
            rows.append(ModelAliasRow(provider: "bedrock", model: "amazon-nova-\(size)", canonicalProvider: "bedrock",
                                      canonicalModel: "nova-\(size)-v1",
                                      note: "llm-prices marketing name for Bedrock amazon.nova-\(size)-v1:0"))
            // OpenRouter routes Nova to Bedrock (its only host), at Bedrock's list price.
            rows.append(ModelAliasRow(provider: "openrouter", model: "amazon/nova-\(size)-v1", canonicalProvider: "bedrock",
                                      canonicalModel: "nova-\(size)-v1",
                                      note: "OpenRouter id for Bedrock amazon.nova-\(size)-v1:0 (Bedrock is the only host)"))
        }
        return try! ModelAliases(rows: rows)
    }()
}
