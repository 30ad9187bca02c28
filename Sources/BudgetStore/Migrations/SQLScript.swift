// Splits a SQL file into statements. postgres-nio speaks PostgreSQL's extended protocol,
// which takes one statement at a time, so migration files are cut at top-level semicolons.
import BudgetCore
public enum SQLScript {
    /// The statements of `sql`, without empty ones. Semicolons inside quotes, quoted
    /// identifiers, dollar-quoted bodies and comments do not split.
    public static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let chars = Array(sql.unicodeScalars)
        var i = 0
        func flush() {
            let trimmed = current.trimmingWhitespace()
            if !trimmed.isEmpty && !isOnlyComments(trimmed) { statements.append(trimmed) }
            current = ""
        }
        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            switch c {
            case "-" where next == "-":
                while i < chars.count && chars[i] != "\n" { current.unicodeScalars.append(chars[i]); i += 1 }
                continue
            case "/" where next == "*":
                var depth = 0
                repeat {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" { depth += 1; current += "/*"; i += 2; continue }
                    if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" { depth -= 1; current += "*/"; i += 2; continue }
                    current.unicodeScalars.append(chars[i]); i += 1
                } while i < chars.count && depth > 0
                continue
            case "'", "\"":
                current.unicodeScalars.append(c); i += 1
                while i < chars.count {
                    current.unicodeScalars.append(chars[i])
                    if chars[i] == c {
                        // A doubled quote is an escaped quote, not the end.
                        if i + 1 < chars.count && chars[i + 1] == c { current.unicodeScalars.append(chars[i + 1]); i += 2; continue }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            case "$":
                if let tag = dollarTag(chars, at: i) {
                    current += tag; i += tag.unicodeScalars.count
                    let tagScalars = Array(tag.unicodeScalars)
                    while i < chars.count {
                        if chars[i] == "$" && Array(chars[i..<min(chars.count, i + tagScalars.count)]) == tagScalars {
                            current += tag; i += tagScalars.count
                            break
                        }
                        current.unicodeScalars.append(chars[i]); i += 1
                    }
                    continue
                }
            case ";":
                flush(); i += 1
                continue
            default:
                break
            }
            current.unicodeScalars.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$tag$` starting at `index`, if one does.
    private static func dollarTag(_ chars: [Unicode.Scalar], at index: Int) -> String? {
        var j = index + 1
        var tag = "$"
        while j < chars.count {
            let c = chars[j]
            if c == "$" { return tag + "$" }
            guard c.properties.isAlphabetic || c == "_" || (c.properties.numericType != nil && j > index + 1) else { return nil }
            tag.unicodeScalars.append(c)
            j += 1
        }
        return nil
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { $0.trimmingWhitespace().isEmpty || $0.trimmingWhitespace().hasPrefix("--") }
    }
}

