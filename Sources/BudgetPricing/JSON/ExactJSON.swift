// A JSON value whose numbers keep their exact text, so prices become exact Decimals.
import Foundation

/// A parsed JSON document. Unlike `JSONSerialization`, numbers are `ExactNumber`s (their
/// written digits, never a `Double`) and objects keep their members in document order.
public indirect enum ExactJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(ExactNumber)
    case string(String)
    case array([ExactJSON])
    case object(ExactJSONObject)

    /// Parses a complete UTF-8 JSON document (RFC 8259). A leading UTF-8 byte-order mark is
    /// tolerated; anything after the value other than whitespace is an error.
    public static func parse(_ data: Data) throws(ExactJSONError) -> ExactJSON {
        var parser = ExactJSONParser(bytes: [UInt8](data))
        return try parser.parseDocument()
    }

    /// Parses a complete UTF-8 JSON document held in memory (a request body).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ExactJSONError) -> ExactJSON {
        var parser = ExactJSONParser(bytes: [UInt8](bytes))
        return try parser.parseDocument()
    }

    /// Parses a complete JSON document held in a string.
    public static func parse(_ text: String) throws(ExactJSONError) -> ExactJSON {
        var parser = ExactJSONParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    public var objectValue: ExactJSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var arrayValue: [ExactJSON]? {
        if case .array(let array) = self { return array }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    public var numberValue: ExactNumber? {
        if case .number(let number) = self { return number }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let bool) = self { return bool }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup when this is an object; nil otherwise.
    public subscript(key: String) -> ExactJSON? {
        objectValue?[key]
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON text. Numbers are written exactly as they were read and members stay in
    /// order, so a source's entry can be stored (as JSONB) without being altered.
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let number): out += number.text
        case .string(let string): Self.writeString(string, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
