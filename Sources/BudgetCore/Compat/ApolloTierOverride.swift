// Apollo's tier tables are set at run time (`set_model_tier`, `set_component_tier`,
// `set_provider_tier`). An override names one entry of one table: it replaces Apollo's default
// for that name, or adds a name Apollo's defaults do not have.
import Foundation

public struct ApolloTierOverride: Sendable, Hashable {
    /// Which of Apollo's three tables the entry belongs to.
    public enum Kind: String, Sendable, CaseIterable {
        case model, component, provider
    }

    public var kind: Kind
    /// The name as the table keys it (`key(_:kind:)`).
    public var name: String
    public var tier: ApolloTier
    public var updatedAt: Date

    public init(kind: Kind, name: String, tier: ApolloTier, updatedAt: Date) {
        self.kind = kind
        self.name = name
        self.tier = tier
        self.updatedAt = updatedAt
    }

    /// The key a name is stored and looked up under, as the resolver looks it up: models and
    /// providers trimmed and lower-cased, components exactly as given (Apollo matches them
    /// case-sensitively). Nil for a name that is empty or longer than 500 characters.
    public static func key(_ name: String, kind: Kind) -> String? {
        let key = kind == .component ? name : Scope.key(name) ?? ""
        guard !key.isEmpty, key.count <= 500 else { return nil }
        return key
    }
}

extension ApolloTierResolver {
    /// Apollo's default tables with `overrides` applied on top.
    public init(overrides: [ApolloTierOverride]) {
        self.init()
        for entry in overrides {
            switch entry.kind {
            case .model: modelTiers[entry.name] = entry.tier
            case .component: componentTiers[entry.name] = entry.tier
            case .provider: providerTiers[entry.name] = entry.tier
            }
        }
    }

    /// The tier Apollo's defaults give a table entry (nil: the defaults have no such entry).
    public static func defaultTier(kind: ApolloTierOverride.Kind, name: String) -> ApolloTier? {
        switch kind {
        case .model: defaultModelTiers[name]
        case .component: nil
        case .provider: defaultProviderTiers[name]
        }
    }
}
