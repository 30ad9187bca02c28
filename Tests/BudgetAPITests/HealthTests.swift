import BudgetAPI
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@Suite("GET /health says the process is alive; GET /ready says whether the database answers")
struct HealthTests {
    @Test func healthReportsStatusAndVersion() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try response.json()
                #expect(body["status"] as? String == "ok")
                #expect(body["version"] as? String == BudgetVersion.current)
            }
        }
    }

    @Test func readyIs200WhenTheDatabaseAnswers() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // The probe allows the database 2 s; on a machine busy with the rest of the suite the
            // first connection can take longer, so a few attempts are allowed before it must say ready.
            var reply = try await client.send(.get, "/ready")
            for _ in 0..<10 where reply.status != .ok {
                try await Task.sleep(for: .milliseconds(500))
                reply = try await client.send(.get, "/ready")
            }
            #expect(reply.status == .ok)
            #expect(reply.string("status") == "ready")
        }
    }

    @Test func readyIs503WithAJSONErrorWhenTheDatabaseIsGone() async throws {
        // A socket directory where no server listens.
        let nowhere = DatabaseEndpoint(
            address: .unixSocket(directory: FileManager.default.temporaryDirectory.appendingPathComponent("no-server-\(UUID())").path, port: 5432),
            username: "budget", database: "budget"
        )
        let harness = APITestHarness(endpoint: nowhere)
        try await harness.withApp { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let code = try response.errorCode()
                #expect(code == "database_unavailable")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test func engineRoutesFailClosedWith503WhenTheDatabaseIsGone() async throws {
        let nowhere = DatabaseEndpoint(
            address: .unixSocket(directory: FileManager.default.temporaryDirectory.appendingPathComponent("no-server-\(UUID())").path, port: 5432),
            username: "budget", database: "budget"
        )
        try await APITestHarness(endpoint: nowhere).withApp(requestTimeout: .seconds(2)) { client in
            let reply = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.01"}}"#)
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.code == "database_unavailable")
        }
    }

    @Test func unknownRouteIsAJSON404() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try response.errorCode()
                #expect(code == "not_found")
            }
        }
    }
}
