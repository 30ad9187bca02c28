// swift-log handler writing plain text lines to standard error (BUDGET_LOG_FORMAT=text, the
// default), in swift-log's StreamLogHandler layout:
//   2026-11-22T15:04:05+0000 warning BudgetStore: key=value [BudgetStore] message
//
// Why not StreamLogHandler itself: it renders its metadata to text each time a metadata value is
// set, whether or not a line is ever written. Hummingbird sets the request id on every request's
// logger, so at the default level that rendering (a sort, a join and a dozen allocations per
// request) was thrown away on each call of the hot path. This handler renders metadata only for
// a line it writes.
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct TextLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = "\(Self.timestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):"
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += " [\(event.source)] \(event.message)\n"
        // One write(2) per line keeps lines whole when several threads log at once.
        var bytes = line
        bytes.withUTF8 { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }

    /// Local time to the second, as StreamLogHandler writes it.
    private static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
