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

    /// UTC without fraction ("2026-11-21T10:00:00Z").
    public static func seconds(_ date: Date) -> String {
        format(date, fractional: false)
    }

    private static func format(_ date: Date, fractional: Bool) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var millis = Int(((interval - Double(seconds)) * 1000).rounded())
        if millis == 1000 { millis = 0; seconds += 1 }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
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
        let normalised = text.count > 10 && text[text.index(text.startIndex, offsetBy: 10)] == " "
            ? text.replacingCharacters(in: text.index(text.startIndex, offsetBy: 10)...text.index(text.startIndex, offsetBy: 10), with: "T")
            : text
        if let date = try? Date(normalised, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(normalised, strategy: Date.ISO8601FormatStyle()) { return date }
        return nil
    }
}
