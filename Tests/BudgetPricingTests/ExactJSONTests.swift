// Tests for the exact JSON parser: structure, exact numbers, strictness and error positions.
import Foundation
import Testing
import BudgetPricing

@Suite("ExactJSON")
struct ExactJSONTests {
    @Test("parses every JSON type and keeps member order")
    func parsesStructure() throws {
        let json = try ExactJSON.parse(#"{"b": [1, -2.5, true, false, null], "a": {"x": "y"}, "c": "\u00e9\n"}"#)
        let object = try #require(json.objectValue)
        #expect(object.keys == ["b", "a", "c"])
        #expect(json["b"]?.arrayValue?.count == 5)
        #expect(json["b"]?.arrayValue?[2].boolValue == true)
        #expect(json["b"]?.arrayValue?[4].isNull == true)
        #expect(json["a"]?["x"]?.stringValue == "y")
        #expect(json["c"]?.stringValue == "é\n")
    }

    @Test("numbers keep their written text and convert to exact Decimals")
    func exactNumbers() throws {
        let json = try ExactJSON.parse(#"[2.9999900000000002e-06, 2.5e-06, 1E+3, 1e-05, 0.0000025, -0.0, 12, 3.75e-6]"#)
        let numbers = try #require(json.arrayValue).map { $0.numberValue! }
        #expect(numbers.map(\.text) == ["2.9999900000000002e-06", "2.5e-06", "1E+3", "1e-05", "0.0000025", "-0.0", "12", "3.75e-6"])
        #expect(numbers[0].decimal == dec("0.0000029999900000000002"))
        #expect(numbers[1].decimal == dec("0.0000025"))
        #expect(numbers[2].decimal == dec("1000"))
        #expect(numbers[3].decimal == dec("0.00001"))
        #expect(numbers[1] == numbers[4])  // same value, different spelling
        #expect(numbers[5].isZero && !numbers[5].isNegative)
        #expect(numbers[6].decimal == 12)
        #expect(numbers[7].plainText == "0.00000375")
    }

    @Test("number text is validated before any Decimal conversion",
          arguments: ["12abc", "+1", ".5", "1.", "01", "-", "1e", "1e+", "NaN", "Infinity", " 1", "1 ", "0x10", "1,5", "--1", ""])
    func rejectsNonNumbers(text: String) {
        #expect(ExactNumber(text) == nil)
    }

    @Test("values a Decimal cannot hold exactly have no decimal")
    func outOfRangeNumbers() throws {
        #expect(ExactNumber("123456789012345678901234567890123456789")?.decimal == nil)  // 39 digits
        #expect(ExactNumber("12345678901234567890123456789012345678")?.decimal != nil)   // 38 digits
        #expect(ExactNumber("1e-200")?.decimal == nil)
        #expect(ExactNumber("1e99999999999999999999")?.decimal == nil)
        // Still valid JSON: the document parses, only the conversion is refused.
        #expect(try ExactJSON.parse("[1e99999999999999999999]").arrayValue?.count == 1)
    }

    @Test("scaling by powers of ten is exact")
    func scaling() throws {
        let cents = try #require(ExactNumber("0.00025"))
        #expect(cents.scaled(byPowerOfTen: -2).decimal == dec("0.0000025"))
        let perMillion = try #require(ExactNumber("0.435"))
        #expect(perMillion.scaled(byPowerOfTen: -6).decimal == dec("0.000000435"))
    }

    @Test("strings: escapes, surrogate pairs, raw UTF-8")
    func strings() throws {
        let json = try ExactJSON.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\ud83d\ude00", "≤200k", "\u0041"]"#)
        let strings = try #require(json.arrayValue).map { $0.stringValue! }
        #expect(strings == ["a\"b\\c/d\u{8}\u{c}\n\r\t", "😀", "≤200k", "A"])
    }

    @Test("a repeated key: the last one wins")
    func duplicateKeys() throws {
        let json = try ExactJSON.parse(#"{"a": 1, "a": 2}"#)
        #expect(json["a"]?.numberValue?.text == "2")
        #expect(json.objectValue?.count == 2)
    }

    @Test("serialises compactly with numbers and order unchanged")
    func serialisation() throws {
        let text = #"{"z":2.9999900000000002e-06,"a":[1E+3,"q\"\n",null,{"k":false}],"m":"\u0001"}"#
        let json = try ExactJSON.parse(text)
        #expect(json.jsonText == text)
        #expect(try ExactJSON.parse(json.jsonText) == json)
    }

    @Test("tolerates a UTF-8 byte-order mark")
    func byteOrderMark() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data("[1]".utf8)
        #expect(try ExactJSON.parse(data).arrayValue?.count == 1)
    }

    struct Malformed: Sendable, CustomStringConvertible {
        let text: String
        let kind: ExactJSONError.Kind
        let offset: Int
        var description: String { text }
    }

    @Test("malformed documents throw with the kind and position of the error", arguments: [
        Malformed(text: "", kind: .emptyInput, offset: 0),
        Malformed(text: "   ", kind: .emptyInput, offset: 3),
        Malformed(text: "{\"a\": 1,}", kind: .unexpectedByte(UInt8(ascii: "}")), offset: 8),
        Malformed(text: "[1, 2", kind: .unexpectedEndOfInput, offset: 5),
        Malformed(text: "{\"a\" 1}", kind: .unexpectedByte(UInt8(ascii: "1")), offset: 5),
        Malformed(text: "[01]", kind: .invalidNumber("01"), offset: 1),
        Malformed(text: "[1.5.3]", kind: .invalidNumber("1.5.3"), offset: 1),
        Malformed(text: "\"abc", kind: .unexpectedEndOfInput, offset: 4),
        Malformed(text: "\"a\\x\"", kind: .invalidEscape, offset: 2),
        Malformed(text: "\"\\ud800\"", kind: .invalidUnicodeEscape, offset: 7),
        Malformed(text: "\"a\u{01}\"", kind: .controlCharacterInString, offset: 2),
        Malformed(text: "[1] [2]", kind: .trailingContent, offset: 4),
        Malformed(text: "tru", kind: .unexpectedEndOfInput, offset: 0),
        Malformed(text: "nul!", kind: .unexpectedByte(UInt8(ascii: "!")), offset: 3),
        Malformed(text: "{'a': 1}", kind: .unexpectedByte(UInt8(ascii: "'")), offset: 1),
    ])
    func malformed(_ example: Malformed) {
        #expect {
            try ExactJSON.parse(example.text)
        } throws: { error in
            guard let error = error as? ExactJSONError else { return false }
            return error.kind == example.kind && error.offset == example.offset
        }
    }

    @Test("errors report line and column")
    func lineAndColumn() {
        let error = #expect(throws: ExactJSONError.self) {
            try ExactJSON.parse("{\n  \"a\": 1,\n  \"b\": ]\n}")
        }
        #expect(error?.line == 3)
        #expect(error?.column == 8)
    }

    @Test("invalid UTF-8 in a string is rejected")
    func invalidUTF8() {
        let data = Data([UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\"")])
        #expect(throws: ExactJSONError.self) { try ExactJSON.parse(data) }
    }

    @Test("nesting is bounded")
    func nestingLimit() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: ExactJSONError.self) { try ExactJSON.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try ExactJSON.parse(fine) }
    }
}
