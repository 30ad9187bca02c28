// One explicit alias: a (provider, model) spelling and the canonical key it denotes.

/// An explicit alias, as stored in an admin-editable table. `provider` nil matches any provider.
/// Spellings are compared after trimming and lower-casing (and provider canonicalisation).
public struct ModelAliasRow: Sendable, Hashable, Codable {
    public var provider: String?
    public var model: String
    public var canonicalProvider: String
    public var canonicalModel: String
    public var canonicalRegion: String?
    /// Why the alias exists (shown to admins; required for the built-in rows).
    public var note: String

    public init(provider: String?, model: String, canonicalProvider: String, canonicalModel: String,
                canonicalRegion: String? = nil, note: String = "") {
        self.provider = provider
        self.model = model
        self.canonicalProvider = canonicalProvider
        self.canonicalModel = canonicalModel
        self.canonicalRegion = canonicalRegion
        self.note = note
    }

    public var key: CanonicalModelKey {
        CanonicalModelKey(provider: ProviderNames.canonical(canonicalProvider),
                          model: canonicalModel.trimmingWhitespace().lowercased(),
                          region: canonicalRegion.map { $0.trimmingWhitespace().lowercased() })
    }
}
