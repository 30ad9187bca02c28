import BudgetAPI
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import BudgetTestSupport
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

    /// Sends `call` while `lock` holds what it needs in another transaction, ends the session of
    /// the call once it waits for that lock running `statement`, and returns its answer.
    func answerOfACallWhoseSessionIsEnded(_ harness: APITestHarness, lock: PostgresQuery, statement: String,
                                           _ call: @escaping @Sendable () async throws -> Reply) async throws -> Reply {
        try await harness.sql { admin in
            try await admin.withConnection { holder in
                let logger = Logger(label: "HealthTests")
                try await holder.query("BEGIN", logger: logger)
                try await holder.query(lock, logger: logger)
                let pending = Task { try await call() }
                try await admin.waitForSessionsWaitingForALock(running: statement)
                try await admin.endSessionsWaitingForALock(running: statement)
                let reply = await answer(of: pending, by: .now + .seconds(60))
                try await holder.query("COMMIT", logger: logger)
                return try reply.get()
            }
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
            let reply = try await answerOfACallWhoseSessionIsEnded(harness, lock: "SELECT 1 FROM limit_windows FOR UPDATE",
                                                                   statement: "budget_engine_run") {
                try await client.send(.post, "/api/v1/allocations", allocate)
            }
            #expect(reply.status == .serviceUnavailable, "\(reply.status) \(reply.text)")
            #expect(reply.code == "database_unavailable")
            // Nothing was reserved by it, and the next call goes through.
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "1")
            #expect(try await client.send(.post, "/api/v1/allocations", allocate).status == .created)
        }
    }

    /// The same inside a transaction (a limit's change closes one version and writes the next):
    /// the error that ended the transaction decides, so this is a 503 too, and the limit is unchanged.
    @Test func aChangeWhoseSessionIsEndedInItsTransactionIs503() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"period":"daily","metric":"cost_usd","amount":"10","policy":"enforce"}"#)
            let reply = try await answerOfACallWhoseSessionIsEnded(harness, lock: "SELECT 1 FROM limits FOR UPDATE",
                                                                   statement: "UPDATE limits SET valid_to") {
                try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"amount":"20"}"#)
            }
            #expect(reply.status == .serviceUnavailable, "\(reply.status) \(reply.text)")
            #expect(reply.code == "database_unavailable")
            #expect(try await harness.scalar("SELECT string_agg(amount::text, ',') FROM limits") == "10")
            #expect(try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"amount":"20"}"#).status == .ok)
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
