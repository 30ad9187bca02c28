// swift-log handler writing one line per event to standard error: plain text (the default, in
// swift-log's StreamLogHandler layout) or one JSON object (BUDGET_LOG_FORMAT=json).
//   text: 2026-11-22T15:04:05+0000 warning BudgetStore: key=value [BudgetStore] message
//
// Why not StreamLogHandler for text: it renders its metadata to text each time a metadata value
// is set, whether or not a line is ever written. Hummingbird sets the request id on every
// request's logger, so at the default level that rendering (a sort, a join and a dozen
// allocations per request) was thrown away on each call of the hot path. This handler renders
// metadata only for a line it writes.
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct LineLogHandler: LogHandler {
    typealias Format = BudgetConfiguration.LogFormat

    let label: String
    let format: Format
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line: [UInt8]? = switch format {
        case .text: Array(textLine(event, merged).utf8)
        case .json: jsonLine(event, merged)
        }
        guard let line else { return }
        // One write(2) per line keeps lines whole when several threads log at once.
        line.withUnsafeBytes { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }

    private func textLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var line = "\(Self.localTimestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):"
        if !metadata.isEmpty {
            line += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return line + " [\(event.source)] \(event.message)\n"
    }

    private func jsonLine(_ event: LogEvent, _ metadata: Logger.Metadata) -> [UInt8]? {
        var object: [String: Any] = [
            "timestamp": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "source": event.source,
        ]
        for (key, value) in metadata {
            object[key] = Self.plain(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return Array(data) + [0x0A]
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let array): return array.map(plain)
        case .dictionary(let dictionary): return dictionary.mapValues(plain)
        }
    }

    /// Local time to the second, as StreamLogHandler writes it.
    private static func localTimestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

enum LogSetup {
    /// Installs the process-wide log handler once, at start-up.
    static func bootstrap(_ configuration: BudgetConfiguration) {
        let (format, level) = (configuration.logFormat, configuration.logLevel)
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }
}
