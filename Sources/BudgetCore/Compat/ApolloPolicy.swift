// An Apollo budget policy (apollo/models/budget.py `BudgetPolicy`) and the Budget limit it becomes.
import Foundation

public struct ApolloPolicy: Sendable, Hashable {
    public var policyID: String
    public var type: ApolloPolicyType
    public var period: ApolloPeriod
    public var tier: ApolloTier
    public var component: String?
    public var taskType: String?
    /// Tokens per period.
    public var limit: Int64
    public var warningThreshold: Decimal
    /// Kept and answered back; Apollo never used it and neither does Budget.
    public var actionThreshold: Decimal
    public var startDate: Date?
    public var endDate: Date?
    public var enabled: Bool
    public var metadata: JSONValue

    public static let defaultWarningThreshold = Decimal(string: "0.8")!
    public static let defaultActionThreshold = Decimal(string: "0.95")!

    public init(policyID: String, type: ApolloPolicyType, period: ApolloPeriod, tier: ApolloTier, component: String? = nil, taskType: String? = nil,
                limit: Int64, warningThreshold: Decimal = Self.defaultWarningThreshold, actionThreshold: Decimal = Self.defaultActionThreshold,
                startDate: Date? = nil, endDate: Date? = nil, enabled: Bool = true, metadata: JSONValue = .object([:])) {
        self.policyID = policyID
        self.type = type
        self.period = period
        self.tier = tier
        self.component = component
        self.taskType = taskType
        self.limit = limit
        self.warningThreshold = warningThreshold
        self.actionThreshold = actionThreshold
        self.startDate = startDate
        self.endDate = endDate
        self.enabled = enabled
        self.metadata = metadata
    }

    public enum Invalid: Error, Equatable, Sendable {
        case negativeLimit
        case warningThresholdOutOfRange
        case emptyPolicyID
    }

    /// What keeps the policy from becoming a Budget limit (Budget's warn_at is in (0, 1]), if anything.
    public var invalidity: Invalid? {
        if policyID.trimmingWhitespace().isEmpty { return .emptyPolicyID }
        if limit < 0 { return .negativeLimit }
        if warningThreshold <= 0 || warningThreshold > 1 { return .warningThresholdOutOfRange }
        return nil
    }

    /// The limit's filter: the tier, and the component and task type when the policy names them.
    public var filter: ScopeFilter {
        ScopeFilter(component: component, taskType: taskType, tier: tier.rawValue)
    }

    /// The Budget policy of the limit. A disabled policy, or one whose end date has passed, only
    /// tracks (Apollo skips such policies when it checks).
    public func budgetPolicy(at instant: Date) -> Policy {
        if !enabled { return .ignore }
        if let endDate, endDate <= instant { return .ignore }
        return type.policy
    }
}

extension Int64 {
    /// A decimal that is a whole number of tokens, exactly; nil otherwise.
    public init?(wholeTokens value: Decimal) {
        guard let parsed = Int64(value.plainText) else { return nil }
        self = parsed
    }
}
