import BudgetAPI
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@Suite("No overshoot: concurrent allocations never together exceed an enforce limit")
struct ConcurrencyTests {
    static let body = #"{"scope":{"component":"swarm","provider":"p","model":"m"},"estimate":{"cost_usd":"0.01"}}"#

    /// Fires `count` allocations at once through the servers of `clients` (round robin) and
    /// counts the answers. The test client pipelines its requests on one connection, so the storm
    /// uses its own HTTP client with a connection per caller: the requests really are concurrent.
    static func storm(_ clients: [any TestClientProtocol], count: Int) async throws -> (granted: Int, denied: Int, other: [String]) {
        try await PatientHTTP.withClient(connections: count) { http in
            try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<count {
                    let server = clients[index % clients.count]
                    group.addTask { try await PatientHTTP.send(http, to: server, .post, "/api/v1/allocations", Self.body) }
                }
                var granted = 0, denied = 0
                var other: [String] = []
                for try await reply in group {
                    switch reply.status {
                    case .created: granted += 1
                    case .tooManyRequests: denied += 1
                    default: other.append("\(reply.status.code) \(reply.text)")
                    }
                }
                return (granted, denied, other)
            }
        }
    }

    @Test func twoHundredCallersAgainstOneDollarGetExactlyOneHundredGrants() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"component":"swarm"},"period":"daily","amount":"1.00","policy":"enforce"}"#)
            let result = try await Self.storm([client], count: 200)
            #expect(result.other.isEmpty, "\(result.other.prefix(3))")
            #expect(result.granted == 100)
            #expect(result.denied == 100)
            let reserved = try await harness.scalar("SELECT sum(reserved)::text FROM limit_windows")
            #expect(reserved == "1.00")
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations WHERE status = 'active'") == "100")
        }
    }

    @Test func twoServerInstancesOnOneDatabaseStillGrantExactlyOneHundred() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { first in
            try await harness.withApp { second in
                let budget = try await first.makeBudget()
                _ = try await first.makeLimit(budget, #"{"scope":{"component":"swarm"},"period":"daily","amount":"1.00","policy":"enforce"}"#)
                // The second instance learns of the new limit through the catalog generation.
                let result = try await Self.storm([first, second], count: 200)
                #expect(result.other.isEmpty, "\(result.other.prefix(3))")
                #expect(result.granted == 100)
                #expect(result.denied == 100)
            }
        }
    }

    @Test func concurrentCommitsAndDirectUsageKeepCountersEqualToTheLedger() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1000","policy":"warn"}"#)
            _ = try await client.makeLimit(budget, #"{"period":"daily","metric":"tokens","amount":"100000000","policy":"ignore"}"#)
            // A connection per caller: really concurrent, and no pipelined queue to time out.
            try await PatientHTTP.withClient(connections: 60) { http in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<60 {
                        group.addTask {
                            if index.isMultiple(of: 2) {
                                let granted = try await PatientHTTP.send(http, to: client, .post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.05"}}"#)
                                let id = granted.string("id") ?? ""
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":\#(index),"output_tokens":7},"cost_usd":"0.0\#(index % 10)1"}"#)
                            } else {
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":\#(index)},"cost_usd":"0.00\#(index % 10)3"}"#)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let ledgerCost = try await harness.scalar("SELECT sum(cost_usd)::text FROM usage_records")
            let ledgerTokens = try await harness.scalar("SELECT sum(input_tokens + output_tokens)::text FROM usage_records")
            let status = try await client.send(.get, "/api/v1/status").items
            let cost = status.first { $0["metric"] as? String == "cost_usd" }
            let tokens = status.first { $0["metric"] as? String == "tokens" }
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "60")
            #expect(Decimal(string: cost?["spent"] as? String ?? "") == Decimal(string: ledgerCost ?? "x"))
            #expect(tokens?["spent"] as? String == ledgerTokens)
            #expect(cost?["reserved"] as? String == "0")
        }
    }
}
