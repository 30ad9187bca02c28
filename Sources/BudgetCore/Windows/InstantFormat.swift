// ISO 8601 instants as Budget writes and reads them ("2026-11-21T10:00:00.123Z").
import Foundation

public enum InstantFormat {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
