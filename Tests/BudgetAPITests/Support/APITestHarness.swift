// Runs the real application (buildApplication) on an ephemeral port over real HTTP against a
// fresh database, and decodes JSON answers for the assertions.
import BudgetAPI
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

    /// Serves the application built for `endpoint` and hands a client to `body`.
    func withApp<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: endpoint.clientConfiguration())
        let app = buildApplication(configuration: APIConfiguration(host: "127.0.0.1", port: 0), client: client, logger: Logger(label: "BudgetAPITests"))
        return try await app.test(.live, body)
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
