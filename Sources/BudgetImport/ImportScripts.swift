// The import transforms kept in sql/import/<kind>/: numbered files run in order in the import's
// transaction, so the SQL that turns legacy rows into Budget's rows can be read and reviewed.
import BudgetStore
import Foundation

public struct ImportScripts: Sendable {
    public var staging: String
    public var transform: String
    public var reconcile: String

    public init(staging: String, transform: String, reconcile: String) {
        self.staging = staging
        self.transform = transform
        self.reconcile = reconcile
    }

    /// Reads `<sqlDirectory>/import/rhetor/{1_staging,2_transform,3_reconcile}.sql`.
    public static func rhetor(sqlDirectory: URL) throws -> ImportScripts {
        let folder = sqlDirectory.appendingPathComponent("import/rhetor")
        func read(_ name: String) throws -> String {
            let url = folder.appendingPathComponent(name)
            do {
                return try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw ImportError(.unreadableFile, "the import transform \(url.path) is missing; is BUDGET_SQL_DIR right?")
            }
        }
        return try ImportScripts(staging: read("1_staging.sql"), transform: read("2_transform.sql"), reconcile: read("3_reconcile.sql"))
    }
}
