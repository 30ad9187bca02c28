// Exact decimal text in and out: money and amounts travel as strings and are parsed strictly.
import Foundation

extension Decimal {
    /// Parses plain decimal text ("12", "-0.0125", "3e-6") exactly, refusing anything else.
    /// Foundation's `Decimal(string:)` accepts "12abc" as 12; this does not.
    public init?(exactly text: String) {
        let scalars = Array(text.utf8)
        var i = 0
        if i < scalars.count, scalars[i] == UInt8(ascii: "-") || scalars[i] == UInt8(ascii: "+") { i += 1 }
        let digitsStart = i
        while i < scalars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(scalars[i]) { i += 1 }
        var sawDigits = i > digitsStart
        if i < scalars.count, scalars[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < scalars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(scalars[i]) { i += 1 }
            sawDigits = sawDigits || i > fractionStart
        }
        guard sawDigits else { return nil }
        if i < scalars.count, scalars[i] == UInt8(ascii: "e") || scalars[i] == UInt8(ascii: "E") {
            i += 1
            if i < scalars.count, scalars[i] == UInt8(ascii: "-") || scalars[i] == UInt8(ascii: "+") { i += 1 }
            let exponentStart = i
            while i < scalars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(scalars[i]) { i += 1 }
            guard i > exponentStart, i - exponentStart <= 3 else { return nil }
        }
        guard i == scalars.count, scalars.count <= 60,
              let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        self = value
    }

    /// Plain text without exponent or grouping, e.g. "0.0000150000" → "0.000015".
    public var plainText: String {
        var copy = self
        var rounded = Decimal()
        NSDecimalRound(&rounded, &copy, 38, .plain)
        return rounded.description
    }

    /// Whether the value has no fractional part.
    public var isWhole: Bool {
        var copy = self
        var rounded = Decimal()
        NSDecimalRound(&rounded, &copy, 0, .down)
        return rounded == self
    }
}
