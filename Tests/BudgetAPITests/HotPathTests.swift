@testable import BudgetAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Allocate, commit, check and usage records are answered on the connection's event loop, in front of the router
/// (HotPathHandler). These pin what that must not change: which requests it takes, the order of
/// answers on a connection that mixes them with the router's, `Connection: close` and the body
/// limit. Everything else about these calls is pinned through HTTP by the other suites, which
/// reach them through the hot path.
@Suite("The hot path answers allocate, commit, check and usage records in front of the router, in order with the router's answers")
struct HotPathTests {
    private static let allocate = #"{"scope":{"component":"hot"},"estimate":{"cost_usd":"0.01"}}"#

    @Test func itTakesOnlyPostsToAllocateCheckRecordUsageAndCommitAnAllocationByItsId() {
        let id = "0193a1c2-7d4e-7f00-8a00-0000000000aa"
        func route(_ method: HTTPRequest.Method, _ path: String) -> HotPathResponder.Route? {
            HotPathResponder.route(HTTPRequest(method: method, scheme: "http", authority: "x", path: path))
        }
        #expect(route(.post, "/api/v1/allocations") == .allocate)
        #expect(route(.post, "/api/v1/allocations?trace=1") == .allocate)
        #expect(route(.post, "/api/v1/allocations/\(id)/commit") == .commit(UUID(uuidString: id)!))
        #expect(route(.post, "/api/v1/allocations/\(id.uppercased())/commit") == .commit(UUID(uuidString: id)!))
        #expect(route(.get, "/api/v1/allocations/\(id)") == nil)
        #expect(route(.post, "/api/v1/allocations/\(id)/release") == nil)
        #expect(route(.post, "/api/v1/allocations/not-a-uuid/commit") == nil)
        #expect(route(.post, "/api/v1/allocations/") == nil)
        #expect(route(.post, "/api/v1/allocationsX") == nil)
        #expect(route(.post, "/api/v1/check") == .check)
        #expect(route(.post, "/api/v1/usage") == .usage)
        #expect(route(.get, "/api/v1/usage") == nil)
        #expect(route(.post, "/api/v1/usage/batch") == nil)
        #expect(route(.post, "/api/v1/check/") == nil)
        #expect(route(.get, "/api/v1/check") == nil)
        #expect(route(.put, "/api/v1/allocations") == nil)
    }

    @Test func pipelinedRequestsAreAnsweredInTheOrderTheyWereSentWhicheverPathAnswersThem() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let port = try #require(client.port)
            let name = "pipelined-\(UUID().uuidString.prefix(8))"
            let unknown = "/api/v1/allocations/0193a1c2-7d4e-7f00-8a00-0000000000aa/commit"
            // Each group is written at once, so that each request arrives while the ones before it
            // are still being answered. The first starts on the hot path (what follows waits for
            // its answer), the second on the router (what follows goes after the router's answer).
            let first = [
                Self.request("POST", "/api/v1/allocations", Self.allocate),
                Self.request("POST", "/api/v1/allocations", Self.allocate),
                Self.request("POST", unknown, #"{"usage":{"input_tokens":1}}"#),
                Self.request("POST", "/api/v1/budgets", #"{"name":"\#(name)"}"#),
                Self.request("POST", "/api/v1/allocations", Self.allocate),
                Self.request("POST", "/api/v1/usage", #"{"scope":{"component":"hot","provider":"p","model":"m"},"usage":{"input_tokens":3}}"#),
            ]
            let second = [
                Self.request("GET", "/api/v1/budgets"),
                Self.request("POST", "/api/v1/allocations", Self.allocate),
                Self.request("POST", "/api/v1/check", Self.allocate),
                Self.request("GET", "/health"),
            ]
            let (answers, more) = try await blocking {
                let connection = try RawHTTPConnection(port: port)
                return (try connection.exchange(first.joined(), answers: first.count), try connection.exchange(second.joined(), answers: second.count))
            }
            #expect(answers.map(\.status) == [201, 201, 404, 201, 201, 201])
            #expect(answers[0].body.contains(#""status":"granted""#))
            #expect(answers[1].body.contains(#""status":"granted""#))
            #expect(answers[2].body.contains(#""code":"not_found""#))
            #expect(answers[3].body.contains(name))
            #expect(answers[4].body.contains(#""status":"granted""#))
            #expect(answers[5].body.contains(#""pricing_status":"unpriced""#))
            #expect(more.map(\.status) == [200, 201, 200, 200])
            #expect(more[0].body.contains(name) && more[0].body.contains(#""items""#))
            #expect(more[1].body.contains(#""status":"granted""#))
            #expect(more[2].body.contains(#""allowed":true"#))
            #expect((answers + more).allSatisfy { $0.headers["server"] == "Budget" && $0.headers["date"]?.hasSuffix(" GMT") == true })
        }
    }

    @Test func anAllocateWithConnectionCloseIsAnsweredThenTheConnectionIsClosed() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let port = try #require(client.port)
            let (answers, closed) = try await blocking {
                let connection = try RawHTTPConnection(port: port)
                let answers = try connection.exchange(Self.request("POST", "/api/v1/allocations", Self.allocate, close: true), answers: 1)
                return (answers, try connection.readsEndOfStream())
            }
            #expect(answers.map(\.status) == [201])
            #expect(closed)
        }
    }

    @Test func aBodyOverTheLimitIsRefusedWith413AndReservesNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let port = try #require(client.port)
            let padding = String(repeating: " ", count: BudgetRequestContext.maxBodySize)
            let answers = try await blocking {
                try RawHTTPConnection(port: port).exchange(Self.request("POST", "/api/v1/allocations", Self.allocate + padding), answers: 1)
            }
            #expect(answers.map(\.status) == [413])
            #expect(answers.first?.body.contains(#""code":"payload_too_large""#) == true)
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "0")
        }
    }

    @Test func withCallersKeysItRefusesACallWithoutOneAndRecordsNothing() async throws {
        let harness = try await APITestHarness.make()
        let key = "hot-path-key-0123456789"
        try await harness.withApp(apiKeys: try #require(APIKeys(callers: [key]))) { client in
            let id = "0193a1c2-7d4e-7f00-8a00-0000000000aa"
            let usage = #"{"usage":{"input_tokens":1}}"#
            for (path, body) in [("/api/v1/allocations", Self.allocate), ("/api/v1/check", Self.allocate),
                                 ("/api/v1/allocations/\(id)/commit", usage), ("/api/v1/usage", usage)] {
                for headers: HTTPFields in [[:], [.authorization: "Bearer not-the-key-0123456789"]] {
                    let refused = try await client.send(.post, path, body, headers: headers)
                    #expect(refused.status == .unauthorized, "\(path) \(headers)")
                    #expect(refused.code == "unauthorized")
                    #expect(refused.headers[.wwwAuthenticate] == "Bearer")
                }
            }
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "0")
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "0")
            let granted = try await client.send(.post, "/api/v1/allocations", Self.allocate, headers: [.authorization: "Bearer \(key)"])
            #expect(granted.status == .created)
        }
    }

    private static func request(_ method: String, _ path: String, _ body: String? = nil, close: Bool = false) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if close { text += "Connection: close\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        return text
    }
}

/// Runs blocking socket calls on a thread of their own: on the two threads of Swift's shared pool
/// they would stall the server under test, which runs its tasks there too.
private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A keep-alive HTTP/1.1 connection on a plain socket, so that requests can be pipelined (sent
/// before the answers to earlier ones), which HTTP clients do not do.
private final class RawHTTPConnection {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let socket: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(errno)") }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
    }

    deinit {
        close(socket)
    }

    /// Sends `text` in one go and reads `answers` complete answers (each with a Content-Length).
    func exchange(_ text: String, answers count: Int) throws -> [Answer] {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(errno)") }
            sent += n
        }
        var answers: [Answer] = []
        while answers.count < count {
            if let answer = try takeAnswer() { answers.append(answer) } else { try receive() }
        }
        return answers
    }

    /// True when the server closed the connection (nothing more to read).
    func readsEndOfStream() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 1024)
        return recv(socket, &buffer, buffer.count, 0) == 0
    }

    private func receive() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(socket, &buffer, buffer.count, 0)
        guard n > 0 else { throw Failure(description: n == 0 ? "the server closed the connection" : "recv: \(errno)") }
        received += buffer[..<n]
    }

    private func takeAnswer() throws -> Answer? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, received.count - 3)).first(where: { Array(received[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first?.split(separator: " "), statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "not an HTTP answer: \(lines.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard received.count >= end + 4 + length else { return nil }
        let body = String(decoding: received[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        received.removeFirst(end + 4 + length)
        return Answer(status: status, headers: headers, body: body)
    }
}
