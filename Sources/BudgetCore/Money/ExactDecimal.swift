// Exact decimal text in and out: money and amounts travel as strings and are parsed strictly.
import Foundation

/// Decimal text always uses "." — independent of the process locale. Built once.
private let posixLocale = Locale(identifier: "en_US_POSIX")

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
        let mantissa = scalars[digitsStart..<i]
        var exponent = 0
        if i < scalars.count, scalars[i] == UInt8(ascii: "e") || scalars[i] == UInt8(ascii: "E") {
            i += 1
            let negative = i < scalars.count && scalars[i] == UInt8(ascii: "-")
            if i < scalars.count, scalars[i] == UInt8(ascii: "-") || scalars[i] == UInt8(ascii: "+") { i += 1 }
            let exponentStart = i
            while i < scalars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(scalars[i]) { i += 1 }
            guard i > exponentStart, i - exponentStart <= 3 else { return nil }
            exponent = scalars[exponentStart..<i].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } * (negative ? -1 : 1)
        }
        guard i == scalars.count, scalars.count <= 60, Self.fitsExactly(mantissa, exponent: exponent),
              let value = Decimal(string: text, locale: posixLocale) else { return nil }
        self = value
    }

    /// Whether `mantissa` × 10^`exponent` keeps every digit in a Decimal (38 significant digits)
    /// and in `plainText` (38 decimal places), so that no digit is silently rounded away.
    private static func fitsExactly(_ mantissa: ArraySlice<UInt8>, exponent: Int) -> Bool {
        var digits = mantissa.filter { $0 != UInt8(ascii: ".") }
        var scale = (mantissa.firstIndex(of: UInt8(ascii: ".")).map { mantissa.endIndex - $0 - 1 } ?? 0) - exponent
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            scale -= 1
        }
        return digits.drop(while: { $0 == UInt8(ascii: "0") }).count <= 38 && scale <= 38
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
