// Requests to a live test server through AsyncHTTPClient, for the tests where HummingbirdTesting's
// client does not fit: it pipelines everything on one connection with a fixed 20 s timeout, so
// it can neither make requests truly concurrent nor wait out a 10,000-record batch on a busy machine.
import AsyncHTTPClient
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

enum PatientHTTP {
    /// Runs `body` with a client allowing `connections` concurrent connections per server.
    static func withClient<T: Sendable>(connections: Int = 8, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(120)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(http)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func send(_ http: HTTPClient, to server: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil,
                     headers: HTTPFields = [:]) async throws -> Reply {
        let port = try #require(server.port, "a live test server")
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = NIOHTTP1.HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        if let body {
            if headers[.contentType] == nil { request.headers.add(name: "Content-Type", value: "application/json") }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(120))
        let text = try await response.body.collect(upTo: 16 << 20)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Reply(status: HTTPResponse.Status(code: Int(response.status.code)), headers: fields, text: String(buffer: text))
    }
}
