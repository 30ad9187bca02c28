// Output helpers of the client commands: aligned text tables, key/value blocks, JSON re-indentation.
import Foundation

/// A plain text table: a header row, left-aligned columns, widths computed from the content.
struct TextTable: Sendable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    func render() -> String {
        let all = [headers] + rows
        let columnCount = all.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columnCount)
        for row in all {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return all.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let isLast = index == row.count - 1
                line += isLast ? cell : cell.padded(to: widths[index] + 2)
            }
            return line
        }.joined(separator: "\n")
    }
}

extension String {
    /// Pads with spaces to `width` characters (grapheme clusters, the unit the widths are measured in).
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Prints what the commands show; errors go to standard error so that stdout stays parseable.
enum ClientOutput {
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints the server's JSON as it was sent, only re-indented (key order and number text kept).
    static func printJSON(_ data: Data) {
        print(JSONText.pretty(data))
    }

    /// A two-column "field  value" block for a single object; nil values are left out.
    static func fields(_ pairs: [(String, String?)]) -> String {
        let present = pairs.compactMap { key, value in value.map { [key, $0] } }
        let width = present.map { $0[0].count }.max() ?? 0
        return present.map { $0[0].padded(to: width + 2) + $0[1] }
            .joined(separator: "\n")
    }
}

/// Works on JSON text without decoding its values, so nothing (number text, key order) is altered.
enum JSONText {
    /// Re-indents JSON with two spaces; invalid input comes back unchanged.
    static func pretty(_ data: Data) -> String {
        let bytes = [UInt8](data)
        // Only validated here, never used: the output is built from the original text.
        guard (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) != nil else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var depth = 0
        var inString = false
        var escaped = false
        var index = 0
        func newline() {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: depth * 2))
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(byte)
                // Keep empty containers on one line: `{}` and `[]`.
                var next = index
                while next < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[next]) { next += 1 }
                if next < bytes.count, bytes[next] == (byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    out.append(bytes[next])
                    index = next + 1
                } else {
                    depth += 1
                    newline()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth = max(0, depth - 1)
                newline()
                out.append(byte)
            case UInt8(ascii: ","):
                out.append(byte)
                newline()
            case UInt8(ascii: ":"):
                out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            default:
                out.append(byte)
            }
        }
        guard !inString, depth == 0 else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The raw text of a member of the top-level object (e.g. the `items` array of a page).
    static func member(_ key: String, of data: Data) -> Data? {
        let bytes = [UInt8](data)
        var index = 0
        func skipWhitespace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }
        /// Moves past one complete value (string, container or scalar).
        func skipValue() {
            var depth = 0
            var inString = false
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { index += 1; return }
                    }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        if depth == 0 { return }
                        depth -= 1
                        if depth == 0 { index += 1; return }
                    case UInt8(ascii: ","):
                        if depth == 0 { return }
                    default: break
                    }
                }
                index += 1
            }
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        let wanted = Array(key.utf8)
        while index < bytes.count {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index + 1
            skipValue()
            let name = Array(bytes[keyStart..<max(keyStart, index - 1)])
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            let valueStart = index
            skipValue()
            if name == wanted { return Data(bytes[valueStart..<index]) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }

    /// Joins the `items` arrays of several list pages into one `{"items":[…],"next_cursor":null}` document.
    static func mergePages(_ pages: [Data]) -> Data {
        if pages.count == 1 { return pages[0] }
        var elements: [String] = []
        for page in pages {
            guard let items = member("items", of: page) else { continue }
            let text = String(decoding: items, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespacesAndNewlines)
            if !inner.isEmpty { elements.append(inner) }
        }
        return Data("{\"items\":[\(elements.joined(separator: ","))],\"next_cursor\":null}".utf8)
    }
}
