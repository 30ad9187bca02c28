// Rows of Rhetor's two tables as read from its SQLite file, checked one by one before they are
// copied: what PostgreSQL would refuse (or silently change) is reported with the row's id.

/// One row of Rhetor's `usage` table. Text stays as Rhetor stored it; the cost is the shortest
/// decimal that reads back as Rhetor's double.
public struct RhetorUsageRow: Sendable, Equatable {
    public var id: Int64
    public var timestamp: String
    public var provider: String?
    public var model: String?
    public var component: String?
    public var taskType: String?
    public var inputTokens: Int64?
    public var outputTokens: Int64?
    public var cost: String?
    public var metadata: String?
}

/// One row of Rhetor's `budget_settings` table.
public struct RhetorSetting: Sendable, Equatable {
    public var id: Int64
    public var period: String
    public var provider: String
    public var limitAmount: String?
    public var enforcement: String
    public var startDate: String
    public var active: Int64
}

/// Rhetor stamps `datetime.now().isoformat()`: `YYYY-MM-DDTHH:MM:SS` with an optional fraction of
/// up to six digits (dropped when the microseconds are 0). A space separator is accepted too.
public enum RhetorTimestamp {
    public static func isValid(_ text: String) -> Bool {
        let c = Array(text.utf8)
        guard c.count == 19 || (c.count >= 21 && c.count <= 26 && c[19] == UInt8(ascii: ".")) else { return false }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard c[i] >= UInt8(ascii: "0"), c[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(c[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"), c[10] == UInt8(ascii: "T") || c[10] == UInt8(ascii: " "),
              c[13] == UInt8(ascii: ":"), c[16] == UInt8(ascii: ":"),
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
              c.count == 19 || digits(20..<c.count) != nil
        else { return false }
        let daysInMonth = [31, (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return year >= 1 && (1...12).contains(month) && day >= 1 && day <= daysInMonth[month - 1]
            && hour < 24 && minute < 60 && second < 60
    }
}

/// The shortest decimal text that reads back as the same double, in plain notation
/// (`1e-05` → `0.00001`): Rhetor's cost without float noise and without invented digits.
public enum ShortestDecimal {
    public static func text(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }
        // Swift's description is the shortest round-tripping form, sometimes with an exponent.
        let description = "\(value)"
        let negative = description.hasPrefix("-")
        let unsigned = negative ? String(description.dropFirst()) : description
        let parts = unsigned.split(separator: "e", maxSplits: 1)
        let mantissa = String(parts[0])
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var digits = String(pieces[0]) + (pieces.count == 2 ? String(pieces[1]) : "")
        var point = pieces[0].count + exponent          // position of the decimal point within `digits`
        if point <= 0 {
            digits = String(repeating: "0", count: 1 - point) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var integer = String(digits.prefix(point))
        var fraction = String(digits.dropFirst(point))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        while integer.count > 1 && integer.hasPrefix("0") { integer.removeFirst() }
        return (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
    }
}
