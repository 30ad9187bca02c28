// Budgets: create, read, list (keyset pages), update, soft delete.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct BudgetRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public struct Changes: Sendable {
        public var name: String?
        public var owner: String??
        public var description: String??
        public var timeZone: String?
        public var active: Bool?
        public init(name: String? = nil, owner: String?? = nil, description: String?? = nil, timeZone: String? = nil, active: Bool? = nil) {
            self.name = name
            self.owner = owner
            self.description = description
            self.timeZone = timeZone
            self.active = active
        }
    }

    typealias Row = (UUID, String, String?, String?, String, Bool, Date, Date)
    static let selectColumns = "SELECT id, name, owner, description, timezone, active, created_at, updated_at FROM budgets"

    static func budget(_ row: Row) -> Budget {
        Budget(id: row.0, name: row.1, owner: row.2, description: row.3, timeZone: row.4, active: row.5, createdAt: row.6, updatedAt: row.7)
    }

    public func create(name: String, owner: String?, description: String?, timeZone: String, active: Bool, logger: Logger) async throws -> Budget {
        do {
            return try await client.withRows("""
                INSERT INTO budgets (name, owner, description, timezone, active)
                VALUES (\(name), \(owner), \(description), \(timeZone), \(active))
                RETURNING id, name, owner, description, timezone, active, created_at, updated_at
                """, logger: logger) { rows in
                for try await row in rows.decode(Row.self) { return Self.budget(row) }
                throw StoreError(.corrupt, "INSERT returned no row")
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError(.conflict, "a budget named '\(name)' already exists")
        }
    }

    public func find(_ id: UUID, logger: Logger) async throws -> Budget? {
        let rows = try await client.collect(PostgresQuery(unsafeSQL: Self.selectColumns + " WHERE id = $1 AND deleted_at IS NULL", binds: try Self.binds(id)), logger: logger)
        for try await row in rows.decode(Row.self) { return Self.budget(row) }
        return nil
    }

    /// Budgets by name, `limit` at a time, after the cursor (the last name and id seen).
    public func list(after cursor: (String, UUID)?, limit: Int, logger: Logger) async throws -> [Budget] {
        let rows: CollectedRows
        if let (name, id) = cursor {
            rows = try await client.collect("""
                SELECT id, name, owner, description, timezone, active, created_at, updated_at FROM budgets
                WHERE deleted_at IS NULL AND (name, id) > (\(name), \(id)) ORDER BY name, id LIMIT \(limit)
                """, logger: logger)
        } else {
            rows = try await client.collect("""
                SELECT id, name, owner, description, timezone, active, created_at, updated_at FROM budgets
                WHERE deleted_at IS NULL ORDER BY name, id LIMIT \(limit)
                """, logger: logger)
        }
        var budgets: [Budget] = []
        for try await row in rows.decode(Row.self) { budgets.append(Self.budget(row)) }
        return budgets
    }

    public func update(_ id: UUID, _ changes: Changes, logger: Logger) async throws -> Budget? {
        do {
            return try await client.withRows("""
                UPDATE budgets SET
                    name = coalesce(\(changes.name), name),
                    owner = CASE WHEN \(changes.owner != nil) THEN \(changes.owner ?? nil) ELSE owner END,
                    description = CASE WHEN \(changes.description != nil) THEN \(changes.description ?? nil) ELSE description END,
                    timezone = coalesce(\(changes.timeZone), timezone),
                    active = coalesce(\(changes.active), active),
                    updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL
                RETURNING id, name, owner, description, timezone, active, created_at, updated_at
                """, logger: logger) { rows in
                for try await row in rows.decode(Row.self) { return Self.budget(row) }
                return nil
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError(.conflict, "a budget named '\(changes.name ?? "")' already exists")
        }
    }

    /// Marks the budget deleted and inactive and closes its current limit versions; usage and
    /// history stay. Returns false when there was no such budget.
    public func delete(_ id: UUID, by actor: String?, logger: Logger) async throws -> Bool {
        try await client.withLiveTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                UPDATE budgets SET deleted_at = now(), active = false, updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL RETURNING id
                """, logger: logger)
            var found = false
            for try await _ in rows { found = true }
            if found {
                try await connection.query("UPDATE limits SET valid_to = now(), changed_by = \(actor) WHERE budget_id = \(id) AND valid_to IS NULL", logger: logger)
            }
            return found
        }
    }

    static func binds(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value, context: .default) }
        return bindings
    }
}
