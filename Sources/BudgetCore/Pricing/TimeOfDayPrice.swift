// Prices for calls made at certain hours of the day (DeepSeek's off-peak discount).
import Foundation

/// Prices that replace a price's base prices for calls made within a window of the UTC day,
/// from `start` (included) to `end` (excluded); a window whose end is before its start runs past
/// midnight (DeepSeek's off-peak hours, 16:30 to 00:30 UTC). Kinds left nil keep the base price.
public struct TimeOfDayPrice: Sendable, Hashable, Codable {
    /// Seconds after UTC midnight, 0..<86,400.
    public var start: Int
    public var end: Int
    public var input: Decimal?
    public var output: Decimal?
    public var cacheRead: Decimal?
    public var cacheWrite: Decimal?

    public init(start: Int, end: Int, input: Decimal? = nil, output: Decimal? = nil,
                cacheRead: Decimal? = nil, cacheWrite: Decimal? = nil) {
        self.start = start
        self.end = end
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }

    static let secondsPerDay = 86_400

    /// Whether a call made at `date` falls in the window.
    public func contains(_ date: Date) -> Bool {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % Self.secondsPerDay
        let second = seconds >= 0 ? seconds : seconds + Self.secondsPerDay
        return start <= end ? (start <= second && second < end) : (second >= start || second < end)
    }

    /// Whether the two windows share a second of the day.
    public func overlaps(_ other: TimeOfDayPrice) -> Bool {
        func ranges(_ window: TimeOfDayPrice) -> [Range<Int>] {
            window.start < window.end ? [window.start..<window.end] : [window.start..<Self.secondsPerDay, 0..<window.end]
        }
        let theirs = ranges(other)
        return ranges(self).contains { mine in theirs.contains { $0.overlaps(mine) } }
    }

    /// A window must have two different ends inside the day, and state at least one price.
    public var isValid: Bool {
        (0..<Self.secondsPerDay).contains(start) && (0..<Self.secondsPerDay).contains(end) && start != end
            && !(input == nil && output == nil && cacheRead == nil && cacheWrite == nil)
    }

    /// Seconds after midnight for `HH:MM` or `HH:MM:SS` (fractions of a second ignored), with an
    /// optional `Z`: UTC only; nil for anything else.
    public static func secondsOfDay(_ text: String) -> Int? {
        var body = Substring(text)
        if body.hasSuffix("Z") { body = body.dropLast() }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else { return nil }
        func twoDigits(_ part: Substring) -> Int? {
            let digits = Array(part.utf8)
            guard digits.count == 2, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
            return Int(digits[0] - 48) * 10 + Int(digits[1] - 48)
        }
        var secondsPart = parts.count == 3 ? parts[2] : "00"
        if let dot = secondsPart.firstIndex(of: ".") {
            guard secondsPart[secondsPart.index(after: dot)...].utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
            secondsPart = secondsPart[..<dot]
        }
        guard let hours = twoDigits(parts[0]), let minutes = twoDigits(parts[1]), let seconds = twoDigits(secondsPart),
              hours <= 23, minutes <= 59, seconds <= 59 else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }

    /// `HH:MM`, or `HH:MM:SS` when the time is not on a minute.
    public static func text(secondsOfDay seconds: Int) -> String {
        func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = pad(seconds / 3600) + ":" + pad(seconds / 60 % 60)
        return seconds % 60 == 0 ? text : text + ":" + pad(seconds % 60)
    }
}

extension TimeOfDayPrice {
    /// The windows as stored with a price version and shown by the API:
    /// `[{"start": "16:30", "end": "00:30", "input": "0.000000135", …}]`, money as decimal strings.
    public static func json(_ windows: [TimeOfDayPrice]) -> String {
        // Strings and objects only: nothing the writer can refuse.
        String(decoding: (try? JSONValue.array(windows.map(\.jsonValue)).jsonBytes()) ?? Array("[]".utf8), as: UTF8.self)
    }

    /// The window as stored and shown; kinds it leaves to the base are left out.
    public var jsonValue: JSONValue {
        let row = self.row
        var members: [String: JSONValue] = ["start": .string(row.start), "end": .string(row.end)]
        for (name, price) in [("input", row.input), ("output", row.output), ("cache_read", row.cacheRead), ("cache_write", row.cacheWrite)] {
            if let price { members[name] = .string(price) }
        }
        return .object(members)
    }

    /// A window as stored and shown: times as `HH:MM`, prices as decimal strings.
    public struct Row: Codable, Sendable, Hashable {
        public var start: String, end: String
        public var input: String?, output: String?, cacheRead: String?, cacheWrite: String?
        enum CodingKeys: String, CodingKey {
            case start, end, input, output, cacheRead = "cache_read", cacheWrite = "cache_write"
        }
    }

    public var row: Row {
        Row(start: Self.text(secondsOfDay: start), end: Self.text(secondsOfDay: end), input: input?.plainText,
            output: output?.plainText, cacheRead: cacheRead?.plainText, cacheWrite: cacheWrite?.plainText)
    }

    /// The window a row states; nil when a time or a price is not valid.
    public init?(row: Row) {
        func price(_ text: String?) -> Decimal?? {
            guard let text else { return .some(nil) }
            guard let value = Decimal(exactly: text), value >= 0 else { return nil }
            return .some(value)
        }
        guard let start = Self.secondsOfDay(row.start), let end = Self.secondsOfDay(row.end),
              let input = price(row.input), let output = price(row.output),
              let cacheRead = price(row.cacheRead), let cacheWrite = price(row.cacheWrite) else { return nil }
        self.init(start: start, end: end, input: input, output: output, cacheRead: cacheRead, cacheWrite: cacheWrite)
        guard isValid else { return nil }
    }

    /// The stored JSON read back; nil when it is not an array of valid windows.
    public static func windows(json: String) -> [TimeOfDayPrice]? {
        guard let rows = try? JSONDecoder().decode([Row].self, from: Data(json.utf8)) else { return nil }
        let windows = rows.compactMap(TimeOfDayPrice.init(row:))
        return windows.count == rows.count ? windows : nil
    }
}
