// ISO 8601 instants as Budget writes and reads them ("2026-11-21T10:00:00.123Z").
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum InstantFormat {
    /// UTC with milliseconds. Written by hand (gmtime_r): this runs several times per request on
    /// the hot path, where Foundation's format styles cost tens of microseconds each.
    public static func string(_ date: Date) -> String {
        format(date, fractional: true)
    }

    /// The start of the millisecond an instant falls in: the precision usage instants are stored
    /// in. The engine decides a call's windows with the instant it stores, so the windows that
    /// count a call and the ledger that holds it agree even a fraction of a millisecond before a
    /// window's end or a reset (`string` rounds to the nearest millisecond, which could move an
    /// instant decided before midnight to midnight itself). The microseconds are rounded first, so
    /// an instant read back from PostgreSQL or parsed from "….123Z" keeps its millisecond, and two
    /// `Date`s of the same millisecond give the same `Date`.
    public static func wholeMilliseconds(_ date: Date) -> Date {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        return Date(timeIntervalSince1970: (micros / 1000).rounded(.down) / 1000)
    }

    /// UTC without fraction ("2026-11-21T10:00:00Z").
    public static func seconds(_ date: Date) -> String {
        format(date, fractional: false)
    }

    /// UTC with microseconds, PostgreSQL's own precision ("2026-08-02T10:41:31.837276Z"): for an
    /// instant that must name a stored timestamp exactly (an imported row's, say). A `Date` read
    /// from PostgreSQL holds its microseconds to well under half a microsecond, so they round back.
    public static func microseconds(_ date: Date) -> String {
        var (seconds, micros) = (Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + 978_307_200_000_000)
            .quotientAndRemainder(dividingBy: 1_000_000)
        if micros < 0 { seconds -= 1; micros += 1_000_000 }
        var text = format(Date(timeIntervalSince1970: TimeInterval(seconds)), fractional: false)
        text.removeLast()   // the "Z"
        let digits = String(micros)
        return text + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    private static func format(_ date: Date, fractional: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var millis = Int(((interval - Double(seconds)) * 1000).rounded())
        if millis == 1000 { millis = 0; seconds += 1 }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else { return spelledOut(parts, millis: millis, fractional: fractional) }
        // "YYYY-MM-DDTHH:MM:SS.mmmZ" written into the string's own storage: no intermediate strings.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func digits(_ value: Int, _ width: Int) {
                var rest = value
                for position in stride(from: index + width - 1, through: index, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += width
            }
            func mark(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            digits(year, 4); mark("-"); digits(Int(parts.tm_mon) + 1, 2); mark("-"); digits(Int(parts.tm_mday), 2)
            mark("T"); digits(Int(parts.tm_hour), 2); mark(":"); digits(Int(parts.tm_min), 2); mark(":"); digits(Int(parts.tm_sec), 2)
            if fractional { mark("."); digits(millis, 3) }
            mark("Z")
            return index
        }
    }

    /// Years outside 0–9999 (never a real timestamp here), written with as many digits as they take.
    private static func spelledOut(_ parts: tm, millis: Int, fractional: Bool) -> String {
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        var text = pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
        text += "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
        if fractional { text += "." + pad(Int32(millis), 3) }
        return text + "Z"
    }

    /// Accepts "Z" or a numeric offset, with or without fractional seconds, "T" or " " separator.
    public static func parse(_ text: String) -> Date? {
        switch parseCommon(text) {
        case .instant(let date): return date
        case .invalid: return nil
        case .otherForm: break
        }
        let normalised = text.count > 10 && text[text.index(text.startIndex, offsetBy: 10)] == " "
            ? text.replacingCharacters(in: text.index(text.startIndex, offsetBy: 10)...text.index(text.startIndex, offsetBy: 10), with: "T")
            : text
        if let date = try? Date(normalised, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(normalised, strategy: Date.ISO8601FormatStyle()) { return date }
        return nil
    }

    enum Parsed {
        case instant(Date)
        /// The shape of a date and time, but not a real one (31 February, 24:00, junk after the zone).
        case invalid
        /// Not the common shape: left to Foundation's parser.
        case otherForm
    }

    /// The forms Budget and PostgreSQL write ("2026-11-21T10:00:00Z", "2026-11-21 10:00:00.123456+01:00"),
    /// read by hand and strictly; other shapes are left to Foundation's parser.
    static func parseCommon(_ text: String) -> Parsed {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 20, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: " "), utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":")
        else { return .otherForm }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = utf8[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return .invalid }
        var index = 19
        var fraction = 0.0
        if utf8[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < utf8.count, utf8[index] >= 0x30, utf8[index] <= 0x39 { index += 1 }
            guard index > start, index - start <= 9, let value = digits(start..<index) else { return .invalid }
            fraction = Double(value) / pow(10, Double(index - start))
        }
        guard index < utf8.count else { return .invalid }
        var offset = 0
        if utf8[index] == UInt8(ascii: "Z") {
            index += 1
        } else if utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
            let sign = utf8[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard index + 2 <= utf8.count, let hours = digits(index..<index + 2) else { return .invalid }
            index += 2
            var minutes = 0
            if index < utf8.count {
                if utf8[index] == UInt8(ascii: ":") { index += 1 }
                guard index + 2 <= utf8.count, let value = digits(index..<index + 2) else { return .invalid }
                minutes = value
                index += 2
            }
            guard hours < 24, minutes < 60 else { return .invalid }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return .invalid
        }
        guard index == utf8.count else { return .invalid }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int(timegm(&parts))
        // timegm normalises 31 February into March; such a text is not a date.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return .invalid }
        return .instant(Date(timeIntervalSince1970: Double(seconds - offset) + fraction))
    }
}
