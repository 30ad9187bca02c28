// The reconciliation of an import: for every group (total, provider, month, provider+model,
// month+provider) the file's figures and the ledger's, which must agree before anything commits.
import Foundation

public struct ReconciliationKey: Hashable, Sendable, Comparable {
    public enum Dimension: String, Sendable, CaseIterable, Comparable {
        case total, provider, month, providerModel = "provider_model", monthProvider = "month_provider"

        var order: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
    }

    public var dimension: Dimension
    public var month: String?
    public var provider: String?
    public var model: String?

    /// How the group reads in a table: NULL keys are Rhetor's unknowns, shown as SQLite quotes them.
    public var label: String {
        func q(_ s: String?) -> String { s.map { "'\($0)'" } ?? "NULL" }
        switch dimension {
        case .total: return "all rows"
        case .provider: return q(provider)
        case .month: return month ?? "NULL"
        case .providerModel: return "\(q(provider)) \(q(model))"
        case .monthProvider: return "\(month ?? "NULL") \(q(provider))"
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        if a.dimension != b.dimension { return a.dimension < b.dimension }
        return (a.month ?? "", a.provider ?? "", a.model ?? "") < (b.month ?? "", b.provider ?? "", b.model ?? "")
    }
}

/// Exact figures of a group of rows.
public struct Figures: Sendable, Equatable {
    public var rows: Int
    public var inputTokens: Decimal
    public var outputTokens: Decimal
    public var cost: Decimal

    public static let zero = Figures(rows: 0, inputTokens: 0, outputTokens: 0, cost: 0)
}

/// SQLite's own figures of a group: exact counts and token sums, the cost as SQLite's float total.
public struct FileFigures: Sendable, Equatable {
    public var rows: Int
    public var inputTokens: Decimal
    public var outputTokens: Decimal
    public var costTotal: Double
}

public struct ReconciliationLine: Sendable {
    public var key: ReconciliationKey
    /// The rows as copied into PostgreSQL (exact).
    public var file: Figures
    /// The ledger rows this source produced (exact).
    public var ledger: Figures
    /// SQLite's figures of the same group, read from the file itself.
    public var sqlite: FileFigures?

    /// Float sums in SQLite agree with exact sums to well under a micro-cent; anything beyond
    /// this tolerance is a real difference.
    static let costTolerance = Decimal(string: "0.000000001")!

    public var problems: [String] {
        var problems: [String] = []
        if file != ledger {
            problems.append("ledger has \(ledger.rows) rows, \(ledger.inputTokens)/\(ledger.outputTokens) tokens, $\(ledger.cost); file has \(file.rows) rows, \(file.inputTokens)/\(file.outputTokens) tokens, $\(file.cost)")
        }
        if let sqlite {
            if sqlite.rows != file.rows || sqlite.inputTokens != file.inputTokens || sqlite.outputTokens != file.outputTokens {
                problems.append("SQLite counts \(sqlite.rows) rows, \(sqlite.inputTokens)/\(sqlite.outputTokens) tokens; the copy has \(file.rows), \(file.inputTokens)/\(file.outputTokens)")
            }
            let difference = Decimal(string: ShortestDecimal.text(sqlite.costTotal) ?? "0")! - file.cost
            if abs(difference) > Self.costTolerance + abs(file.cost) * Decimal(string: "0.000000000001")! {
                problems.append("SQLite totals the cost at \(sqlite.costTotal); the copy at \(file.cost)")
            }
        } else {
            problems.append("SQLite has no such group")
        }
        return problems
    }

    public var matches: Bool { problems.isEmpty }
}

public struct Reconciliation: Sendable {
    public var lines: [ReconciliationLine]

    public var matches: Bool { lines.allSatisfy(\.matches) }
    public var differences: [ReconciliationLine] { lines.filter { !$0.matches } }

    public func lines(_ dimension: ReconciliationKey.Dimension) -> [ReconciliationLine] {
        lines.filter { $0.key.dimension == dimension }
    }

    public var total: ReconciliationLine? { lines(.total).first }
}
