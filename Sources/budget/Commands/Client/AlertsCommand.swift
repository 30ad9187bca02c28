// `budget alerts list|ack|watch`: the stored alerts, acknowledging one, and following the live
// stream (Server-Sent Events from GET /api/v1/alerts/stream) as one line per alert.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List, acknowledge and watch alerts on the server at --url or BUDGET_URL.",
        subcommands: [List.self, Ack.self, Watch.self]
    )

    struct Alert: Decodable, Sendable {
        var id: WireText?
        var type: WireText?
        var severity: WireText?
        var budgetID: WireText?
        var limitID: WireText?
        var windowKey: WireText?
        var threshold: WireText?
        var occurrences: WireText?
        var firstAt: WireText?
        var lastAt: WireText?
        var acknowledgedAt: WireText?
        var acknowledgedBy: WireText?
        enum CodingKeys: String, CodingKey {
            case id, type, severity, threshold, occurrences
            case budgetID = "budget_id", limitID = "limit_id", windowKey = "window_key", firstAt = "first_at", lastAt = "last_at"
            case acknowledgedAt = "acknowledged_at", acknowledgedBy = "acknowledged_by"
        }

        /// One line: when, how bad, what, and which limit and window.
        var line: String {
            var parts = [lastAt.cell, severity.cell, type.cell, "id=\(id.cell)"]
            if budgetID != nil, budgetID?.description != "-" { parts.append("budget=\(budgetID.cell)") }
            if limitID != nil, limitID?.description != "-" { parts.append("limit=\(limitID.cell)") }
            if windowKey != nil, windowKey?.description != "-" { parts.append("window=\(windowKey.cell)") }
            if threshold != nil, threshold?.description != "-" { parts.append("threshold=\(threshold.cell)") }
            parts.append("occurrences=\(occurrences.cell)")
            return parts.joined(separator: " ")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts, newest first.")

        @OptionGroup var client: ClientOptions

        @Option(help: "Only alerts of this type (threshold_crossed, limit_exceeded, allocation_denied, critical_bypass, unpriced_usage, price_changed, price_conflict, price_sync_failed); comma-separate several.")
        var type: String?
        @Option(name: .customLong("budget"), help: "Only this budget's alerts.") var budgetID: String?
        @Option(name: .customLong("limit-id"), help: "Only this limit's alerts.") var limitID: String?
        @Flag(help: "Only alerts nobody has acknowledged.") var unacked = false
        @Option(help: "Only alerts last raised at or after this time (ISO 8601).") var since: String?
        @Option(help: "Alerts per page.") var limit: Int?
        @Flag(help: "Follow next_cursor and list every page.") var all = false

        func validate() throws {
            if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            try await client.run { http in
                let query: [(String, String?)] = [
                    ("type", type), ("budget_id", budgetID), ("limit_id", limitID), ("acknowledged", unacked ? "false" : nil),
                    ("since", since), ("limit", limit.map(String.init)),
                ]
                let pages = all ? try await http.allPages("/api/v1/alerts", query: query)
                                : [try await http.get("/api/v1/alerts", query: query).body]
                if client.json { return ClientOutput.printJSON(JSONText.mergePages(pages)) }
                var table = TextTable(["id", "last_at", "severity", "type", "budget", "limit", "window", "threshold", "occurrences", "acked_by"])
                var nextCursor: String?
                for page in pages {
                    let decoded = try ClientWire.decode(ClientWire.Page<Alert>.self, from: page)
                    nextCursor = decoded.nextCursor
                    for alert in decoded.items ?? [] {
                        let acked = alert.acknowledgedAt?.description == "-" || alert.acknowledgedAt == nil ? "-" : alert.acknowledgedBy.cell
                        table.append([alert.id.cell, alert.lastAt.cell, alert.severity.cell, alert.type.cell, alert.budgetID.cell, alert.limitID.cell,
                                      alert.windowKey.cell, alert.threshold.cell, alert.occurrences.cell, acked])
                    }
                }
                print(table.render())
                if let nextCursor { print("more: use --all (next_cursor \(nextCursor))") }
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an alert (the first acknowledgement is kept).")

        @OptionGroup var client: ClientOptions

        @Argument(help: "The alert's id.") var alertID: String
        @Option(help: "Who acknowledges (sent as X-Budget-Actor; default: $USER).") var actor: String?

        func run() async throws {
            let who = actor ?? ProcessInfo.processInfo.environment["USER"]
            try await client.run { http in
                var request = HTTPClientRequest(url: http.baseURL + "/api/v1/alerts/\(BudgetHTTPClient.segment(alertID))/ack")
                request.method = .POST
                request.headers.add(name: "Accept", value: "application/json")
                if let who, !who.isEmpty { request.headers.add(name: "X-Budget-Actor", value: who) }
                let data: Data
                let status: HTTPResponseStatus
                let headers: HTTPHeaders
                do {
                    let response = try await http.httpClient.execute(request, timeout: http.timeout)
                    status = response.status
                    headers = response.headers
                    data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
                } catch {
                    throw ClientError(kind: .unreachable, message: "cannot reach Budget at \(http.baseURL): \(error)")
                }
                guard (200..<300).contains(status.code) else { throw ClientError.fromResponse(status: status, body: data, headers: headers) }
                if client.json { return ClientOutput.printJSON(data) }
                let alert = try ClientWire.decode(Alert.self, from: data)
                print(ClientOutput.fields([
                    ("id", alert.id.cell), ("type", alert.type.cell), ("acknowledged_at", alert.acknowledgedAt.cell),
                    ("acknowledged_by", alert.acknowledgedBy.cell),
                ]))
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each alert as it is raised (by any Budget instance), one line each, until interrupted.",
            discussion: "Reconnects after a lost connection and resumes after the last alert seen (Last-Event-ID)."
        )

        @OptionGroup var client: ClientOptions

        @Option(help: "Only alerts of this type; comma-separate several.") var type: String?
        @Option(name: .customLong("budget"), help: "Only this budget's alerts.") var budgetID: String?
        @Option(help: "First print the stored alerts after this alert id.") var after: String?

        func run() async throws {
            let query = BudgetHTTPClient.queryString([("type", type), ("budget_id", budgetID)])
            let url = client.baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/v1/alerts/stream" + query
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))   // heartbeats come every 15 s
            var lastEventID = after
            try await BudgetHTTPClient.withHTTPClient(configuration: configuration) { httpClient in
                while true {
                    do {
                        try await follow(url: url, lastEventID: &lastEventID, httpClient: httpClient)
                        ClientOutput.printError("the stream ended; reconnecting")
                    } catch let error as ClientError where error.kind == .server {
                        ClientOutput.printError(error.description)
                        throw ExitCode(1)
                    } catch {
                        ClientOutput.printError("lost the alert stream (\(error)); reconnecting in 3 s")
                    }
                    try await Task.sleep(for: .seconds(3))
                }
            }
        }

        private func follow(url: String, lastEventID: inout String?, httpClient: HTTPClient) async throws {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            let response = try await httpClient.execute(request, deadline: .distantFuture)
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw ClientError.fromResponse(status: response.status, body: Data(body.readableBytesView), headers: response.headers)
            }
            var parser = ServerSentEvents()
            for try await buffer in response.body {
                for event in parser.feed(String(buffer: buffer)) {
                    if let id = event.id { lastEventID = id }
                    guard !event.data.isEmpty else { continue }
                    let line: String
                    if client.json {
                        line = event.data
                    } else if let alert = try? JSONDecoder().decode(Alert.self, from: Data(event.data.utf8)) {
                        line = alert.line
                    } else {
                        line = "\(event.event ?? "message") \(event.data)"
                    }
                    // Written unbuffered, so a pipe (`| grep`) sees each alert at once.
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            }
        }
    }
}

/// An incremental `text/event-stream` parser: lines `id:`, `event:`, `data:` up to a blank line;
/// comment lines (`:`, the heartbeats) are skipped.
struct ServerSentEvents {
    struct Event: Sendable {
        var id: String?
        var event: String?
        var data: String
    }

    private var pending = ""
    private var current = Event(id: nil, event: nil, data: "")

    mutating func feed(_ chunk: String) -> [Event] {
        pending += chunk.replacingOccurrences(of: "\r\n", with: "\n")
        var events: [Event] = []
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
            if line.isEmpty {
                if current.id != nil || !current.data.isEmpty { events.append(current) }
                current = Event(id: nil, event: nil, data: "")
                continue
            }
            if line.hasPrefix(":") { continue }
            let (field, value) = Self.split(line)
            switch field {
            case "id": current.id = value
            case "event": current.event = value
            case "data": current.data += current.data.isEmpty ? value : "\n" + value
            default: break
            }
        }
        return events
    }

    private static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.hasPrefix(" ") { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
