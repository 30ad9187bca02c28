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

    /// A restart of PostgreSQL (or an administrator) ends the sessions in use with a FATAL error
    /// (SQLSTATE 57P01): a call caught by it is told the database is unavailable, 503, as when the
    /// connection is lost, not that the server failed (500). Here the call waits for its limit's
    /// window, held by another transaction, when its backend is ended.
    @Test func aCallWhoseDatabaseSessionIsEndedIs503() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            try await client.makeLimit(budget, #"{"scope":{"component":"ended"},"period":"daily","metric":"cost_usd","amount":"10","policy":"enforce"}"#)
            let allocate = #"{"scope":{"component":"ended","provider":"p","model":"m"},"estimate":{"cost_usd":"0.01"}}"#
            #expect(try await client.send(.post, "/api/v1/allocations", allocate).status == .created)   // the window exists now
            let waiting: PostgresQuery = """
                SELECT count(*)::text FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%budget_engine_run%'
                """
            let reply = try await harness.sql { admin in
                try await admin.withConnection { holder in
                    try await holder.query("BEGIN", logger: Logger(label: "HealthTests"))
                    try await holder.query("SELECT 1 FROM limit_windows FOR UPDATE", logger: Logger(label: "HealthTests"))
                    let call = Task { try await client.send(.post, "/api/v1/allocations", allocate) }
                    var found = false
                    for _ in 0..<200 where !found {
                        for try await count in try await admin.query(waiting).decode(String.self) { found = count != "0" }
                        if !found { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    #expect(found, "the allocate came to wait for the window")
                    try await admin.query("""
                        SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%budget_engine_run%'
                        """)
                    let reply = try await call.value
                    try await holder.query("COMMIT", logger: Logger(label: "HealthTests"))
                    return reply
                }
            }
            #expect(reply.status == .serviceUnavailable, "\(reply.status) \(reply.text)")
            #expect(reply.code == "database_unavailable")
            // Nothing was reserved by it, and the next call goes through.
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "1")
            #expect(try await client.send(.post, "/api/v1/allocations", allocate).status == .created)
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
