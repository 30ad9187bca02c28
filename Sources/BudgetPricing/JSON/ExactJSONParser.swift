// Recursive-descent JSON parser over UTF-8 bytes that keeps number text exact.

/// Parses one JSON document. Internal: callers use `ExactJSON.parse`.
struct ExactJSONParser {
    static let maxDepth = 512

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(ExactJSONError) -> ExactJSON {
        // Tolerate a UTF-8 byte-order mark, which some tools write.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < bytes.count else { throw error(.emptyInput) }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw error(.trailingContent) }
        return value
    }

    private mutating func parseValue() throws(ExactJSONError) -> ExactJSON {
        guard index < bytes.count else { throw error(.unexpectedEndOfInput) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.unexpectedByte(bytes[index]))
        }
    }

    private mutating func parseObject() throws(ExactJSONError) -> ExactJSON {
        try enter()
        index += 1  // {
        var members: [ExactJSONObject.Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(ExactJSONObject(members: members))
        }
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw error(.unexpectedEndOfInput) }
            guard byte == UInt8(ascii: "\"") else { throw error(.unexpectedByte(byte)) }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let value = try parseValue()
            members.append(ExactJSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard let next = peek() else { throw error(.unexpectedEndOfInput) }
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "}") { break }
            index -= 1
            throw error(.unexpectedByte(next))
        }
        depth -= 1
        return .object(ExactJSONObject(members: members))
    }

    private mutating func parseArray() throws(ExactJSONError) -> ExactJSON {
        try enter()
        index += 1  // [
        var values: [ExactJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue())
            skipWhitespace()
            guard let next = peek() else { throw error(.unexpectedEndOfInput) }
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { break }
            index -= 1
            throw error(.unexpectedByte(next))
        }
        depth -= 1
        return .array(values)
    }

    private mutating func parseNumber() throws(ExactJSONError) -> ExactNumber {
        let start = index
        while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
        let span = bytes[start..<index]
        guard let number = ExactNumber.parse(span, text: nil) else {
            index = start
            throw error(.invalidNumber(String(decoding: span, as: UTF8.self)))
        }
        return number
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
             UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default:
            false
        }
    }

    private mutating func parseString() throws(ExactJSONError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = bytes[start..<index]
                index += 1
                return try decodeUTF8(slice, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(.controlCharacterInString) }
            index += 1
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try decodeUTF8(buffer[...], at: start)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error(.unexpectedEndOfInput) }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    index -= 2
                    throw error(.invalidEscape)
                }
            default:
                if byte < 0x20 { throw error(.controlCharacterInString) }
                buffer.append(byte)
                index += 1
            }
        }
        throw error(.unexpectedEndOfInput)
    }

    /// Reads the four hex digits after `\u`, pairing UTF-16 surrogates into one scalar.
    private mutating func parseUnicodeEscape() throws(ExactJSONError) -> Unicode.Scalar {
        let first = try readHex4()
        if (0xD800...0xDBFF).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error(.invalidUnicodeEscape)
            }
            index += 2
            let second = try readHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw error(.invalidUnicodeEscape) }
            let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw error(.invalidUnicodeEscape) }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error(.invalidUnicodeEscape) }
        return scalar
    }

    private mutating func readHex4() throws(ExactJSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error(.unexpectedEndOfInput) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - 55)
            default: throw error(.invalidUnicodeEscape)
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private func decodeUTF8(_ slice: ArraySlice<UInt8>, at offset: Int) throws(ExactJSONError) -> String {
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw ExactJSONParser.makeError(.invalidUTF8, offset: offset, in: bytes)
        }
        return string
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ExactJSONError) {
        let count = literal.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        guard index + count <= bytes.count else { throw error(.unexpectedEndOfInput) }
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            index += offset
            throw error(.unexpectedByte(bytes[index]))
        }
        index += count
    }

    private mutating func expect(_ byte: UInt8) throws(ExactJSONError) {
        guard let next = peek() else { throw error(.unexpectedEndOfInput) }
        guard next == byte else { throw error(.unexpectedByte(next)) }
        index += 1
    }

    private mutating func enter() throws(ExactJSONError) {
        depth += 1
        if depth > Self.maxDepth { throw error(.nestingTooDeep(limit: Self.maxDepth)) }
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func error(_ kind: ExactJSONError.Kind) -> ExactJSONError {
        Self.makeError(kind, offset: index, in: bytes)
    }

    static func makeError(_ kind: ExactJSONError.Kind, offset: Int, in bytes: [UInt8]) -> ExactJSONError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return ExactJSONError(kind: kind, offset: offset, line: line, column: column)
    }
}
