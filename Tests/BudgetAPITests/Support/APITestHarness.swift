// Runs the real application (buildApplication) on an ephemeral port over real HTTP against a
// fresh database, and decodes JSON answers for the assertions.
import AsyncHTTPClient
import BudgetAPI
import BudgetCore
import BudgetStore
import BudgetTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO

struct APITestHarness {
    let endpoint: DatabaseEndpoint

    static func make() async throws -> APITestHarness {
        APITestHarness(endpoint: try await TestDatabaseServer.shared.makeDatabase())
    }

    /// Serves the application built for `endpoint` over real HTTP and hands a client to `body`.
    /// Alerts as the tests want them: webhooks polled often and retried after 0.3 s (twice).
    static let testAlerts = AlertConfiguration(heartbeatInterval: .seconds(1), webhookPollInterval: .milliseconds(100),
                                               webhookRetry: WebhookRetryPolicy(delays: [.milliseconds(300), .milliseconds(300)]))

    func withApp<T: Sendable>(sweepInterval: Duration = .milliseconds(200), requestTimeout: Duration = .seconds(60), alerts: AlertConfiguration = testAlerts,
                              apiKeys: APIKeys? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: endpoint.clientConfiguration(maximumConnections: 40))
        var logger = Logger(label: "BudgetAPITests")
        logger.logLevel = .warning
        let app = buildApplication(configuration: APIConfiguration(host: "127.0.0.1", port: 0, sweepInterval: sweepInterval, requestTimeout: requestTimeout, alerts: alerts,
                                                                   apiKeys: apiKeys),
                                   client: client, logger: logger)
        return try await app.test(.live, body)
    }

    /// Runs SQL against the suite's database (to look behind the API).
    func sql<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await withClient(endpoint, body)
    }

    func scalar(_ query: PostgresQuery) async throws -> String? {
        try await sql { client in
            for try await value in try await client.query(query).decode(String?.self) { return value }
            return nil
        }
    }

    /// A current price written straight into the table, as a sync or another instance would,
    /// with no server told of it.
    func storePrice(_ provider: String, _ model: String, input: String, output: String) async throws {
        try await sql { client in
            try await client.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token)
                VALUES (\(provider), \(model), lower(\(provider)), lower(\(model)), \(input)::numeric, \(output)::numeric)
                """)
        }
    }
}

/// One HTTP answer, with the body parsed as JSON.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var text: String

    var json: [String: any Sendable] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: any Sendable]) ?? [:]
    }
    var code: String? { (json["error"] as? [String: any Sendable])?["code"] as? String }
    var field: String? { (json["error"] as? [String: any Sendable])?["field"] as? String }
    func string(_ key: String) -> String? { json[key] as? String }
    var items: [[String: any Sendable]] { (json["items"] as? [[String: any Sendable]]) ?? [] }
}

extension TestClientProtocol {
    /// One request to the test server. A live server is asked through PatientHTTP's client:
    /// HummingbirdTesting's own gives up after a fixed 20 s, which a request that makes many
    /// database round trips can pass while the whole suite runs in parallel on two cores.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var headers = headers
        if body != nil { headers[.contentType] = "application/json" }
        if port != nil { return try await PatientHTTP.send(HTTPClient.shared, to: self, method, path, body, headers: headers) }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Creates a budget and returns its id.
    func makeBudget(_ name: String = "b-\(UUID().uuidString.prefix(8))", timezone: String = "UTC") async throws -> String {
        let reply = try await send(.post, "/api/v1/budgets", #"{"name":"\#(name)","timezone":"\#(timezone)"}"#)
        guard reply.status == .created, let id = reply.string("id") else { throw JSONShapeError(body: reply.text) }
        return id
    }

    /// Adds a limit and returns its id.
    func makeLimit(_ budget: String, _ json: String) async throws -> String {
        let reply = try await send(.post, "/api/v1/budgets/\(budget)/limits", json)
        guard reply.status == .created, let id = reply.string("id") else { throw JSONShapeError(body: reply.text) }
        return id
    }

    func setPrice(_ provider: String, _ model: String, input: String, output: String) async throws {
        let reply = try await send(.put, "/api/v1/prices/\(provider)/\(model)", #"{"input_per_token":"\#(input)","output_per_token":"\#(output)"}"#)
        guard reply.status == .ok else { throw JSONShapeError(body: reply.text) }
    }
}

extension TestResponse {
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        let data = Data(body.readableBytesView)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw JSONShapeError(body: String(buffer: body))
        }
        return object
    }

    /// `error.code` of an error body.
    func errorCode() throws -> String? {
        (try json()["error"] as? [String: Any])?["code"] as? String
    }
}

struct JSONShapeError: Error, CustomStringConvertible {
    var body: String
    var description: String { "not a JSON object: \(body)" }
}

/// Polls until `condition` holds, for at most `seconds` (for work the server does in the
/// background: webhook deliveries, the pricing of unpriced usage).
func eventually(_ seconds: Double = 30, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
