// Helpers shared by the suites. Expected instants are parsed here with plain integer arithmetic
// (days from the civil date), never with Foundation's Calendar or BudgetCore's InstantFormat, so a
// wrong calendar computation in the code under test cannot also produce the expectation.
import Foundation

enum ISO {
    /// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)". Traps on anything else: a typo in a test
    /// literal must not become a silently different instant.
    static func instant(_ text: String) -> Date {
        let chars = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int {
            precondition(from + count <= chars.count, "bad ISO literal \(text)")
            var value = 0
            for c in chars[from..<from + count] {
                precondition((48...57).contains(c), "bad ISO literal \(text)")
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        func expect(_ index: Int, _ c: Character) {
            precondition(index < chars.count && chars[index] == c.asciiValue!, "bad ISO literal \(text)")
        }
        let year = number(0, 4); expect(4, "-")
        let month = number(5, 2); expect(7, "-")
        let day = number(8, 2); expect(10, "T")
        let hour = number(11, 2); expect(13, ":")
        let minute = number(14, 2); expect(16, ":")
        let second = number(17, 2)
        precondition((1...12).contains(month) && (1...31).contains(day) && hour < 24 && minute < 60 && second < 60, "bad ISO literal \(text)")
        var i = 19
        var fractionDigits: [Int] = []
        if i < chars.count, chars[i] == UInt8(ascii: ".") {
            i += 1
            while i < chars.count, (48...57).contains(chars[i]) { fractionDigits.append(Int(chars[i] - 48)); i += 1 }
            precondition(!fractionDigits.isEmpty && fractionDigits.count <= 9, "bad ISO literal \(text)")
        }
        var offsetSeconds = 0
        precondition(i < chars.count, "bad ISO literal \(text)")
        if chars[i] == UInt8(ascii: "Z") {
            i += 1
        } else {
            let sign = chars[i] == UInt8(ascii: "+") ? 1 : chars[i] == UInt8(ascii: "-") ? -1 : 0
            precondition(sign != 0, "bad ISO literal \(text)")
            let oh = number(i + 1, 2); expect(i + 3, ":")
            let om = number(i + 4, 2)
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i += 6
        }
        precondition(i == chars.count, "bad ISO literal \(text)")
        let unixSeconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds
        var nanoseconds = 0
        for (index, digit) in fractionDigits.enumerated() { nanoseconds += digit * pow10(8 - index) }
        // 978_307_200 s separate 1970-01-01 from 2001-01-01; subtracting in integers keeps the
        // whole seconds exact and leaves only the fraction to floating point.
        return Date(timeIntervalSinceReferenceDate: Double(unixSeconds - 978_307_200) + Double(nanoseconds) / 1e9)
    }

    private static func pow10(_ n: Int) -> Int { n == 0 ? 1 : 10 * pow10(n - 1) }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A decimal literal parsed by Foundation (not by BudgetCore's `Decimal(exactly:)`).
func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
}

func hours(_ count: Double) -> TimeInterval { count * 3600 }

func zone(_ identifier: String) -> TimeZone {
    TimeZone(identifier: identifier)!
}
