// A budget: a named container of limits with the zone its windows are computed in.
import Foundation

public struct Budget: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var owner: String?
    public var description: String?
    public var timeZone: String
    public var active: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, name: String, owner: String?, description: String?, timeZone: String, active: Bool, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.owner = owner
        self.description = description
        self.timeZone = timeZone
        self.active = active
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
