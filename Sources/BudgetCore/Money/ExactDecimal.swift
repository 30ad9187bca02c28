// Exact decimal text in and out: money and amounts travel as strings and are parsed strictly.
import Foundation

/// Decimal text always uses "." — independent of the process locale. Built once.
private let posixLocale = Locale(identifier: "en_US_POSIX")

extension Decimal {
    /// Parses plain decimal text ("12", "-0.0125", "3e-6") exactly, refusing anything else.
    /// Foundation's `Decimal(string:)` accepts "12abc" as 12; this does not.
    public init?(exactly text: String) {
        if let value = Self.shortPlain(text.utf8) {
            self = value
            return
        }
        guard let value = Self.parsedByFoundation(text) else { return nil }
        self = value
    }

    /// The general way of `init(exactly:)`: the grammar checked by hand, the digits read by
    /// Foundation. Package-visible so that tests can hold the quick way against it.
    package static func parsedByFoundation(_ text: String) -> Decimal? {
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
        return value
    }

    /// The quick way for the common text, `-?digits(.digits)?` with at most 19 significant digits
    /// ("0.0125", "-3", "1000"): the digits as one integer, then scaled. Foundation's parser costs
    /// about 0.7 µs a value, and a granted answer reads several. Anything else (an exponent, more
    /// digits, a "+", "1." or ".5") returns nil and goes the general way.
    static func shortPlain(_ utf8: String.UTF8View) -> Decimal? {
        guard !utf8.isEmpty, utf8.count <= 60 else { return nil }
        var negative = false
        var significand: UInt64 = 0
        var significantDigits = 0
        var digitsBeforePoint = 0
        var scale = 0
        var afterPoint = false
        for (position, byte) in utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where position == 0:
                negative = true
            case UInt8(ascii: ".") where !afterPoint && digitsBeforePoint > 0:
                afterPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if afterPoint { scale += 1 } else { digitsBeforePoint += 1 }
                if significand == 0 && byte == UInt8(ascii: "0") { continue }
                significantDigits += 1
                guard significantDigits <= 19 else { return nil }
                significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
            default:
                return nil
            }
        }
        guard digitsBeforePoint > 0, !afterPoint || scale > 0 else { return nil }
        if significand == 0 { return negative ? nil : Decimal.zero }
        var exponent = -scale
        while significand % 10 == 0 {
            significand /= 10
            exponent += 1
        }
        // More than 38 places cannot be written back by plainText; the general way refuses them.
        guard exponent >= -38 else { return nil }
        return Decimal(sign: negative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
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
        shortPlainText ?? foundationPlainText
    }

    /// The general way of `plainText`: rounded to 38 places and written by Foundation.
    package var foundationPlainText: String {
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

    /// The quick way of `plainText` for a value whose digits fit in 64 bits and whose exponent
    /// is within ±38 (every amount Budget handles): the digits written from one integer.
    /// Foundation's description costs about 1 µs a value, this about a fifth of that. Nil for
    /// anything else, which takes the general way.
    var shortPlainText: String? {
        guard !isNaN else { return nil }
        let exponent = self.exponent
        guard (-38...38).contains(exponent) else { return nil }
        let significand = self.significand
        let units = NSDecimalNumber(decimal: significand).uint64Value
        // The check makes the conversion's own limits irrelevant: only an exact integer passes.
        guard Decimal(units) == significand else { return nil }
        guard units != 0 else { return "0" }
        var digits = units
        var places = -exponent
        while places > 0 && digits % 10 == 0 {
            digits /= 10
            places -= 1
        }
        // At most 20 digits, a sign, "0." and 38 zeros: composed on the stack, so that a short
        // result (most amounts) needs no allocation at all.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { out in
            var text: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes for the up to 20 digits
            let count = withUnsafeMutableBytes(of: &text) { raw in
                var end = raw.count
                repeat {
                    end -= 1
                    raw[end] = UInt8(ascii: "0") + UInt8(digits % 10)
                    digits /= 10
                } while digits > 0
                return raw.count - end
            }
            var length = 0
            func put(_ byte: UInt8) {
                out[length] = byte
                length += 1
            }
            withUnsafeBytes(of: text) { raw in
                let digitsText = raw[(raw.count - count)...]
                if sign == .minus { put(UInt8(ascii: "-")) }
                if places <= 0 {
                    digitsText.forEach(put)
                    for _ in 0 ..< -places { put(UInt8(ascii: "0")) }
                } else if count <= places {
                    put(UInt8(ascii: "0"))
                    put(UInt8(ascii: "."))
                    for _ in 0 ..< places - count { put(UInt8(ascii: "0")) }
                    digitsText.forEach(put)
                } else {
                    digitsText.prefix(count - places).forEach(put)
                    put(UInt8(ascii: "."))
                    digitsText.suffix(places).forEach(put)
                }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: out[..<length]), as: UTF8.self)
        }
    }
}
