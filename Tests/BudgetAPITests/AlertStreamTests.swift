import AsyncHTTPClient
import BudgetAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

/// Reads a Server-Sent Events stream over real HTTP and collects its text.
actor StreamReader {
    private(set) var text = ""
    private var task: Task<Void, any Error>?

    func start(url: String, lastEventID: String? = nil, httpClient: HTTPClient) {
        task = Task {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            let response = try await httpClient.execute(request, timeout: .seconds(60))
            self.append("HTTP \(response.status.code) \(response.headers.first(name: "Content-Type") ?? "")\n")
            for try await buffer in response.body {
                self.append(String(buffer: buffer))
            }
        }
    }

    private func append(_ chunk: String) { text += chunk }

    func stop() { task?.cancel() }

    /// Waits until the text contains `needle`.
    func waitFor(_ needle: String, seconds: Double = 15) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if text.contains(needle) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return text.contains(needle)
    }

    /// The `data:` JSON of every message of `event` in `text`.
    nonisolated static func messages(_ event: String, in text: String) -> [[String: Any]] {
        text.components(separatedBy: "\n\n").compactMap { block -> [String: Any]? in
            let lines = block.split(separator: "\n").map(String.init)
            guard lines.contains("event: \(event)"), let data = lines.first(where: { $0.hasPrefix("data: ") }) else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any]
        }
    }
}

@Suite("The alert stream: every instance streams the alerts any instance raises (LISTEN/NOTIFY), with resume")
struct AlertStreamTests {
    @Test func alertRaisedThroughOneInstanceArrivesOnAnothersStream() async throws {
        let harness = try await APITestHarness.make()
        let httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            try await harness.withApp { raiser in
                try await harness.withApp { streamer in
                    let port = try #require(streamer.port)
                    #expect(raiser.port != streamer.port)
                    let stream = StreamReader()
                    await stream.start(url: "http://127.0.0.1:\(port)/api/v1/alerts/stream", httpClient: httpClient)
                    #expect(try await stream.waitFor(": budget alerts"))
                    #expect(await stream.text.hasPrefix("HTTP 200 text/event-stream"))
                    // The streaming instance's LISTEN is set up as it starts; give it a moment.
                    try await Task.sleep(for: .milliseconds(500))

                    let budget = try await raiser.makeBudget()
                    let limit = try await raiser.makeLimit(budget, #"{"period":"daily","amount":"10","policy":"warn","thresholds":["0.5"]}"#)
                    _ = try await raiser.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"6"}"#)
                    #expect(try await stream.waitFor("event: threshold_crossed"))
                    let alerts = StreamReader.messages("threshold_crossed", in: await stream.text)
                    #expect(alerts.count == 1)
                    #expect(alerts.first?["limit_id"] as? String == limit)
                    #expect(alerts.first?["threshold"] as? String == "0.5")
                    let id = try #require(alerts.first?["id"] as? String)
                    #expect(await stream.text.contains("id: \(id)\nevent: threshold_crossed\ndata: {"))

                    // Repeats bump occurrences and are not streamed again.
                    _ = try await raiser.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"0.5"}"#)
                    _ = try await raiser.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"3"}"#)   // 9.5: 0.8
                    #expect(try await stream.waitFor("\"threshold\":\"0.8\""))
                    let streamed = await stream.text
                    #expect(StreamReader.messages("threshold_crossed", in: streamed).count == 2)

                    // Heartbeats keep the connection alive (1 s in the tests, 15 s by default).
                    #expect(try await stream.waitFor(": heartbeat", seconds: 5))

                    // A client reconnecting with Last-Event-ID first gets the stored alerts after it.
                    let resumed = StreamReader()
                    await resumed.start(url: "http://127.0.0.1:\(port)/api/v1/alerts/stream?type=threshold_crossed", lastEventID: "0", httpClient: httpClient)
                    #expect(try await resumed.waitFor("\"threshold\":\"0.8\""))
                    let replayed = await resumed.text
                    #expect(StreamReader.messages("threshold_crossed", in: replayed).count == 2)
                    let bad = try await streamer.send(.get, "/api/v1/alerts/stream", headers: [HTTPField.Name("Last-Event-ID")!: "yesterday"])
                    #expect(bad.status == .badRequest)
                    await stream.stop()
                    await resumed.stop()
                }
            }
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// BUDGET_ALERT_STREAM=off: the instance holds no LISTEN connection, says so on the stream
    /// route, and still lists the stored alerts.
    @Test func anInstanceWithoutTheStreamSaysSoAndStillListsAlerts() async throws {
        let harness = try await APITestHarness.make()
        var alerts = APITestHarness.testAlerts
        alerts.streamAlerts = false
        try await harness.withApp(alerts: alerts) { client in
            let stream = try await client.send(.get, "/api/v1/alerts/stream")
            #expect(stream.status == .serviceUnavailable && stream.code == "alert_stream_off")
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"p"},"period":"daily","amount":"10","policy":"warn"}"#)
            _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
            #expect(try await client.send(.get, "/api/v1/alerts").items.count == 1)
            let listening = try await harness.scalar("SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()")
            #expect(listening == "0")
            return ()
        }
    }
}
