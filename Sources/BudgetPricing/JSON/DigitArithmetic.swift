// Unsigned decimal arithmetic on ASCII digit strings, for rounding exact numbers without Double.

/// Just enough big-integer arithmetic for `ExactNumber.cleaned`: digit strings are base-10,
/// most significant digit first, and may carry leading zeros.
enum DigitArithmetic {
    /// Compares two unsigned digit strings by value.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        compare(trimmedLeadingZeros(a), trimmedLeadingZeros(b))
    }

    /// `a - b` for `a >= b`, as a digit string of `a`'s length.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = a
        var borrow = 0
        var j = b.count - 1
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            var digit = Int(a[i] - 48) - borrow - (j >= 0 ? Int(b[j] - 48) : 0)
            j -= 1
            if digit < 0 { digit += 10; borrow = 1 } else { borrow = 0 }
            result[i] = UInt8(digit + 48)
        }
        return result
    }

    /// `a + 1`; the result is one digit longer when every digit was 9.
    static func incremented(_ a: [UInt8]) -> [UInt8] {
        var result = a
        for i in stride(from: result.count - 1, through: 0, by: -1) {
            if result[i] == UInt8(ascii: "9") {
                result[i] = UInt8(ascii: "0")
            } else {
                result[i] += 1
                return result
            }
        }
        return [UInt8(ascii: "1")] + result
    }

    static func trimmedLeadingZeros(_ a: [UInt8]) -> ArraySlice<UInt8> {
        var slice = a[...]
        while slice.count > 1, slice.first == UInt8(ascii: "0") { slice = slice.dropFirst() }
        return slice
    }

    private static func compare(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }
}
