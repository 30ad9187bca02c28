// Why a JSON document could not be parsed, and where.

/// A syntax error in a JSON document, with the byte offset (and line/column) where it was found.
public struct ExactJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case emptyInput
        case unexpectedEndOfInput
        case unexpectedByte(UInt8)
        case invalidNumber(String)
        case invalidEscape
        case invalidUnicodeEscape
        case controlCharacterInString
        case invalidUTF8
        case trailingContent
        case nestingTooDeep(limit: Int)
    }

    public let kind: Kind
    /// Zero-based byte offset into the document.
    public let offset: Int
    /// One-based line and column (in bytes) of `offset`.
    public let line: Int
    public let column: Int

    public init(kind: Kind, offset: Int, line: Int, column: Int) {
        self.kind = kind
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String {
        let what: String
        switch kind {
        case .emptyInput: what = "empty document"
        case .unexpectedEndOfInput: what = "unexpected end of input"
        case .unexpectedByte(let byte):
            what = byte >= 0x20 && byte < 0x7F
                ? "unexpected character '\(Character(Unicode.Scalar(byte)))'"
                : "unexpected byte 0x\(String(byte, radix: 16))"
        case .invalidNumber(let text): what = "invalid number '\(text)'"
        case .invalidEscape: what = "invalid escape sequence"
        case .invalidUnicodeEscape: what = "invalid \\u escape or unpaired surrogate"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .invalidUTF8: what = "invalid UTF-8"
        case .trailingContent: what = "content after the JSON value"
        case .nestingTooDeep(let limit): what = "nesting deeper than \(limit)"
        }
        return "JSON error at line \(line), column \(column) (byte \(offset)): \(what)"
    }
}
