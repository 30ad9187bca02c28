// The client commands' HTTP access to a running Budget server: URL, requests, error mapping.
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The options every client command shares: where the server is, and whether to print raw JSON.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Budget server URL (default: $BUDGET_URL, else \(BudgetHTTPClient.defaultURL)).", valueName: "url"))
    var url: String?

    @Flag(name: .long, help: "Print the server's JSON answer instead of a table.")
    var json = false

    var baseURL: String {
        BudgetHTTPClient.resolveBaseURL(option: url)
    }

    func validate() throws {
        let base = baseURL
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ValidationError("the Budget URL must start with http:// or https://, not '\(base)' (set by --url or BUDGET_URL)")
        }
    }

    /// Runs a command body against the server; a failed request is printed and ends the process with status 1.
    func run(_ body: (BudgetHTTPClient) async throws -> Void) async throws {
        do {
            try await BudgetHTTPClient.withHTTPClient(configuration: BudgetHTTPClient.commandLineConfiguration) { httpClient in
                try await body(BudgetHTTPClient(baseURL: baseURL, httpClient: httpClient))
            }
        } catch let error as ClientError {
            ClientOutput.printError(error.description)
            throw ExitCode(1)
        }
    }
}

/// What the server answered with a 2xx status.
struct ClientResponse: Sendable {
    var status: HTTPResponseStatus
    var body: Data
    var headers: HTTPHeaders
}

/// A request that did not succeed: the server's error object, or why there was no answer.
struct ClientError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The server answered with a non-2xx status.
        case server
        case unreachable
        case timeout
        /// The answer was not the JSON this client expects.
        case unreadable
    }

    var kind: Kind
    /// The HTTP status, when the server answered.
    var status: HTTPResponseStatus?
    var code: String?
    var message: String
    var field: String?
    var body: Data = Data()
    var headers: HTTPHeaders = [:]

    /// The line the commands print: `error: <message> (<code>[, field <field>])`.
    var description: String {
        guard let code else { return "error: \(message)" }
        if let field { return "error: \(message) (\(code), field \(field))" }
        return "error: \(message) (\(code))"
    }

    var statusCode: Int? { status.map { Int($0.code) } }

    /// Seconds to wait, from the `Retry-After` header of a denial.
    var retryAfter: String? { headers.first(name: "Retry-After") }

    /// The denial detail of a 429 `budget_exceeded` answer.
    var deniedLimit: ClientWire.LimitState? {
        (try? JSONDecoder().decode(ClientWire.ErrorEnvelope.self, from: body))?.error?.limit
    }

    static func unreadable(_ excerpt: String) -> ClientError {
        ClientError(kind: .unreadable, message: "the server's answer is not the JSON expected: \(excerpt)")
    }

    static func fromResponse(status: HTTPResponseStatus, body: Data, headers: HTTPHeaders) -> ClientError {
        if let envelope = try? JSONDecoder().decode(ClientWire.ErrorEnvelope.self, from: body), let error = envelope.error {
            return ClientError(
                kind: .server, status: status, code: error.code ?? "http_\(status.code)",
                message: error.message ?? status.reasonPhrase, field: error.field, body: body, headers: headers
            )
        }
        // Not Budget's error shape (e.g. a proxy in between): show the status and the start of the body.
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let message = text.isEmpty ? "the server answered \(status.code) \(status.reasonPhrase)" : "the server answered \(status.code) \(status.reasonPhrase): \(text)"
        return ClientError(kind: .server, status: status, code: "http_\(status.code)", message: message, body: body, headers: headers)
    }
}

/// Sends JSON requests to one Budget server and turns non-2xx answers into `ClientError`.
struct BudgetHTTPClient: Sendable {
    static let defaultURL = "http://127.0.0.1:8013"
    static let maximumBodySize = 64 * 1024 * 1024

    let baseURL: String
    let httpClient: HTTPClient
    var timeout: TimeAmount
    /// Sent as `Authorization: Bearer` when the server requires a key (BUDGET_API_KEY, BUDGET_ADMIN_KEY).
    let apiKey: String?

    /// `.shared` suits long-lived callers; the commands pass `commandLineConfiguration`'s client instead.
    init(baseURL: String, httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(30), apiKey: String? = Self.environmentAPIKey()) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.httpClient = httpClient
        self.timeout = timeout
        self.apiKey = apiKey
    }

    /// The first key of BUDGET_ADMIN_KEY if it lists one (an administrator's key serves for every
    /// call), else the first of BUDGET_API_KEY (the server's settings may list several), or nil.
    static func environmentAPIKey(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        BudgetConfiguration.splitKeys(environment["BUDGET_ADMIN_KEY"]).first { !$0.isEmpty }
            ?? BudgetConfiguration.splitKeys(environment["BUDGET_API_KEY"]).first { !$0.isEmpty }
    }

    /// Settings for one-shot commands: `HTTPClient.shared` retries a refused connection until the request's
    /// deadline (30 s of silence when the server is down), so commands fail fast instead.
    static var commandLineConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// Runs `body` with a dedicated `HTTPClient`, shutting it down afterwards whether or not `body` threw.
    static func withHTTPClient<Value>(
        configuration: HTTPClient.Configuration, _ body: (HTTPClient) async throws -> Value
    ) async throws -> Value {
        let httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let outcome: Result<Value, any Error>
        do {
            outcome = .success(try await body(httpClient))
        } catch {
            outcome = .failure(error)
        }
        try await httpClient.shutdown()
        return try outcome.get()
    }

    /// `--url`, else `BUDGET_URL`, else the default port on loopback.
    static func resolveBaseURL(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let option, !option.isEmpty { return option }
        if let value = environment["BUDGET_URL"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        return defaultURL
    }

    func get(_ path: String, query: [(String, String?)] = []) async throws -> ClientResponse {
        try await send(.GET, path, query: query)
    }

    func delete(_ path: String, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.DELETE, path, idempotencyKey: idempotencyKey)
    }

    func post(_ path: String, body: some Encodable, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.POST, path, body: Self.encode(body), idempotencyKey: idempotencyKey)
    }

    func post(_ path: String, json: Data, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.POST, path, body: json, idempotencyKey: idempotencyKey)
    }

    func patch(_ path: String, body: some Encodable, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.PATCH, path, body: Self.encode(body), idempotencyKey: idempotencyKey)
    }

    func patch(_ path: String, json: Data, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.PATCH, path, body: json, idempotencyKey: idempotencyKey)
    }

    func put(_ path: String, body: some Encodable, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.PUT, path, body: Self.encode(body), idempotencyKey: idempotencyKey)
    }

    func put(_ path: String, json: Data, idempotencyKey: String? = nil) async throws -> ClientResponse {
        try await send(.PUT, path, body: json, idempotencyKey: idempotencyKey)
    }

    /// `path` is below the base URL (e.g. `/api/v1/budgets`); nil query values are left out.
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String?)] = [],
        body: Data? = nil, idempotencyKey: String? = nil, accept: String = "application/json"
    ) async throws -> ClientResponse {
        var request = HTTPClientRequest(url: baseURL + path + Self.queryString(query))
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if let idempotencyKey {
            request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        }
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let data: Data
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            status = response.status
            headers = response.headers
            let buffer = try await response.body.collect(upTo: Self.maximumBodySize)
            data = Data(buffer.readableBytesView)
        } catch {
            throw transportError(error)
        }
        guard (200..<300).contains(status.code) else {
            throw ClientError.fromResponse(status: status, body: data, headers: headers)
        }
        return ClientResponse(status: status, body: data, headers: headers)
    }

    private func transportError(_ error: any Error) -> ClientError {
        if let error = error as? HTTPClientError,
           error == .deadlineExceeded || error == .readTimeout || error == .writeTimeout {
            return ClientError(kind: .timeout, message: "Budget at \(baseURL) did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
        }
        let message = "cannot reach Budget at \(baseURL): is `budget serve` running?"
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return ClientError(kind: .unreachable, message: message)
        }
        // Anything else (DNS, TLS, a reset) is named, since the hint above may not be the cause.
        return ClientError(kind: .unreachable, message: "\(message) (\(error))")
    }

    static func encode(_ body: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(body)
    }

    /// Escapes one path segment (an id supplied by the user) so it cannot change the route.
    static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    // `+` and `:` are escaped too: ISO 8601 offsets like `+02:00` must survive form-style decoding.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func queryString(_ query: [(String, String?)]) -> String {
        let pairs = query.compactMap { name, value in
            value.map { "\(segment(name))=\(segment($0))" }
        }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}

extension BudgetHTTPClient {
    /// Fetches a list and every following page (`?cursor=` from `next_cursor`); returns the raw pages.
    func allPages(_ path: String, query: [(String, String?)] = [], startingAt start: String? = nil) async throws -> [Data] {
        var pages: [Data] = []
        var cursor = start
        var seen: Set<String> = []
        repeat {
            let response = try await get(path, query: query + [("cursor", cursor)])
            pages.append(response.body)
            cursor = try ClientWire.decode(ClientWire.Cursor.self, from: response.body).nextCursor
            // A server repeating a cursor would otherwise loop forever.
            if let current = cursor, !seen.insert(current).inserted {
                throw ClientError.unreadable("the server repeated the page cursor '\(current)'")
            }
        } while cursor != nil
        return pages
    }
}
