// An alert as operators see it: one budget event (deduplicated per limit, window and threshold),
// with how often it recurred and whether someone acknowledged it.
import Foundation

public struct Alert: Sendable, Hashable {
    public var id: Int64
    public var type: AlertType
    public var limitID: UUID?
    public var budgetID: UUID?
    public var windowKey: String?
    public var threshold: Decimal?
    public var occurrences: Int64
    public var firstAt: Date
    public var lastAt: Date
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var details: JSONValue

    public init(id: Int64, type: AlertType, limitID: UUID?, budgetID: UUID?, windowKey: String?, threshold: Decimal?, occurrences: Int64,
                firstAt: Date, lastAt: Date, acknowledgedAt: Date?, acknowledgedBy: String?, details: JSONValue) {
        self.id = id
        self.type = type
        self.limitID = limitID
        self.budgetID = budgetID
        self.windowKey = windowKey
        self.threshold = threshold
        self.occurrences = occurrences
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
        self.details = details
    }

    public var severity: AlertSeverity { .of(type, threshold: threshold) }
}

/// What a list of alerts (or a stream) is narrowed to; nil members do not narrow.
public struct AlertFilter: Sendable, Hashable {
    public var types: [AlertType]?
    public var budgetID: UUID?
    public var limitID: UUID?
    public var acknowledged: Bool?
    public var since: Date?

    public init(types: [AlertType]? = nil, budgetID: UUID? = nil, limitID: UUID? = nil, acknowledged: Bool? = nil, since: Date? = nil) {
        self.types = types
        self.budgetID = budgetID
        self.limitID = limitID
        self.acknowledged = acknowledged
        self.since = since
    }

    public func matches(_ alert: Alert) -> Bool {
        if let types, !types.contains(alert.type) { return false }
        if let budgetID, alert.budgetID != budgetID { return false }
        if let limitID, alert.limitID != limitID { return false }
        if let acknowledged, (alert.acknowledgedAt != nil) != acknowledged { return false }
        if let since, alert.lastAt < since { return false }
        return true
    }
}
