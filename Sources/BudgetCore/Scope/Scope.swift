// The attributes an LLM call is made under, and the filter a limit applies to them.

/// What a call is made under. Raw strings are kept as given; matching uses `key(_:)`.
public struct Scope: Sendable, Hashable, Codable {
    public var component: String?
    public var provider: String?
    public var model: String?
    public var taskType: String?
    public var tier: String?
    public var tags: [String]
    public var sessionID: String?
    public var taskID: String?

    public init(component: String? = nil, provider: String? = nil, model: String? = nil, taskType: String? = nil,
                tier: String? = nil, tags: [String] = [], sessionID: String? = nil, taskID: String? = nil) {
        self.component = component
        self.provider = provider
        self.model = model
        self.taskType = taskType
        self.tier = tier
        self.tags = tags
        self.sessionID = sessionID
        self.taskID = taskID
    }

    /// The matching key of a provider or model: trimmed and lower-cased.
    public static func key(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let trimmed = raw.trimmingWhitespace().lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }

    public var providerKey: String? { Self.key(provider) }
    public var modelKey: String? { Self.key(model) }

    enum CodingKeys: String, CodingKey {
        case component, provider, model, tier, tags
        case taskType = "task_type"
        case sessionID = "session_id"
        case taskID = "task_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        component = try container.decodeIfPresent(String.self, forKey: .component)
        provider = try container.decodeIfPresent(String.self, forKey: .provider)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        taskType = try container.decodeIfPresent(String.self, forKey: .taskType)
        tier = try container.decodeIfPresent(String.self, forKey: .tier)
        tags = try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        sessionID = try container.decodeIfPresent(String.self, forKey: .sessionID)
        taskID = try container.decodeIfPresent(String.self, forKey: .taskID)
    }
}

/// Which calls a limit counts: each attribute nil = any. Provider and model are stored as keys.
public struct ScopeFilter: Sendable, Hashable, Codable {
    public var component: String?
    public var provider: String?
    public var model: String?
    public var taskType: String?
    public var tier: String?
    public var tag: String?

    public init(component: String? = nil, provider: String? = nil, model: String? = nil, taskType: String? = nil, tier: String? = nil, tag: String? = nil) {
        self.component = component.flatMap(Self.clean)
        self.provider = Scope.key(provider)
        self.model = Scope.key(model)
        self.taskType = taskType.flatMap(Self.clean)
        self.tier = tier.flatMap(Self.clean)
        self.tag = tag.flatMap(Self.clean)
    }

    private static func clean(_ value: String) -> String? {
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// True when every attribute the filter names equals the call's.
    public func matches(_ scope: Scope) -> Bool {
        if let component, component != scope.component?.trimmingWhitespace() { return false }
        if let provider, provider != scope.providerKey { return false }
        if let model, model != scope.modelKey { return false }
        if let taskType, taskType != scope.taskType?.trimmingWhitespace() { return false }
        if let tier, tier != scope.tier?.trimmingWhitespace() { return false }
        if let tag, !scope.tags.contains(where: { $0.trimmingWhitespace() == tag }) { return false }
        return true
    }

    /// For status queries with a partial scope: an attribute the query leaves out matches anything.
    public func isCompatible(with query: Scope) -> Bool {
        if let component, let asked = query.component, component != asked.trimmingWhitespace() { return false }
        if let provider, let asked = query.providerKey, provider != asked { return false }
        if let model, let asked = query.modelKey, model != asked { return false }
        if let taskType, let asked = query.taskType, taskType != asked.trimmingWhitespace() { return false }
        if let tier, let asked = query.tier, tier != asked.trimmingWhitespace() { return false }
        if let tag, !query.tags.isEmpty, !query.tags.contains(where: { $0.trimmingWhitespace() == tag }) { return false }
        return true
    }

    enum CodingKeys: String, CodingKey {
        case component, provider, model, tier, tag
        case taskType = "task_type"
    }
}

extension StringProtocol {
    public func trimmingWhitespace() -> String {
        var result = Substring(self)
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return String(result)
    }
}
