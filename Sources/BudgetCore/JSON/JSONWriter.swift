// JSON text of a JSONValue, written byte by byte: keys sorted, slashes not escaped, numbers as
// their digits. The same output Foundation's JSONEncoder gives with `.sortedKeys` and
// `.withoutEscapingSlashes`, without Codable's per-value dispatch (it sits on every response).

public enum JSONWriterError: Error, Sendable, Equatable {
    /// A `.number` whose text is not a JSON number.
    case notANumber(String)
}

extension JSONValue {
    /// The UTF-8 JSON text of the value.
    public func jsonBytes() throws(JSONWriterError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8]) throws(JSONWriterError) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text):
            guard JSONNumberText.isValid(text) else { throw .notANumber(text) }
            out.append(contentsOf: text.utf8)
        case .string(let text): JSONText.write(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.write(key, into: &out)
                out.append(UInt8(ascii: ":"))
                try members[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        write(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func write(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Most text (ids, names, instants) needs no escape: one copy instead of byte by byte.
            if utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for byte in utf8 { escape(byte, into: &out) }
            } else {
                out.append(contentsOf: utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func escape(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x00..<0x20:
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            HexText.append(byte, to: &out)
        default: out.append(byte)
        }
    }
}

/// The grammar of a JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
enum JSONNumberText {
    static func isValid(_ text: String) -> Bool {
        var bytes = text.utf8.makeIterator()
        var next = bytes.next()
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        if next == UInt8(ascii: "-") { next = bytes.next() }
        if next == UInt8(ascii: "0") {
            next = bytes.next()
        } else {
            guard isDigit(next) else { return false }
            while isDigit(next) { next = bytes.next() }
        }
        if next == UInt8(ascii: ".") {
            next = bytes.next()
            guard isDigit(next) else { return false }
            while isDigit(next) { next = bytes.next() }
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            next = bytes.next()
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { next = bytes.next() }
            guard isDigit(next) else { return false }
            while isDigit(next) { next = bytes.next() }
        }
        return next == nil
    }
}
