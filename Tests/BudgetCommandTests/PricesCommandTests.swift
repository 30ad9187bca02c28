import BudgetStore
import BudgetTestSupport
import Foundation
import Testing

/// Drives `budget prices override` and `budget prices show` against a running `budget serve`.
@Suite("`budget prices override` and `show` reach a model by its names as given", .serialized)
struct PricesCommandTests {
    let runner = ImportCommandTests()
    let serve = ServeProcessTests()

    /// A regional provider (`bedrock[us]`) and a model with a slash or a space are one path
    /// segment each: the override lands under those names, and `show` and `--remove` find it.
    @Test func aRegionalProviderAndAModelWithASlashAreEachOneName() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let port = try serve.freePort()
        let server = try serve.start(port: port, settings: ["BUDGET_DATABASE_URL": database.url, "BUDGET_LOG_LEVEL": "warning",
                                                            "BUDGET_PRICE_SYNC_INTERVAL": "0", "BUDGET_WEBHOOKS": "off"])
        defer { server.process.terminate() }
        try await serve.waitUntilReady(server)
        let environment = ["BUDGET_URL": "http://127.0.0.1:\(port)"]

        for (provider, model) in [("bedrock[us]", "claude-sonnet-4-5-20250929"), ("openrouter", "acme/model one")] {
            let set = try await runner.budget(["prices", "override", provider, model, "--input", "0.0000033", "--output", "0.0000165"],
                                              database: database, environment: environment)
            #expect(set.status == 0, "\(provider) \(model): \(set.errors)")
            let shown = try await runner.budget(["prices", "show", provider, model, "--json"], database: database, environment: environment)
            #expect(shown.status == 0, "\(shown.errors)")
            #expect(shown.output.contains("0.0000033") && shown.output.contains(provider) && shown.output.contains(model), "\(shown.output)")
            let removed = try await runner.budget(["prices", "override", provider, model, "--remove"], database: database, environment: environment)
            #expect(removed.status == 0, "\(removed.errors)")
        }
        // Off-peak hours: set with --hours, shown in the table.
        let offPeak = try await runner.budget(["prices", "override", "deepseek", "deepseek-chat", "--input", "0.00000027", "--output", "0.0000011",
                                               "--hours", "16:30-00:30 input=0.000000135,output=0.00000055"], database: database, environment: environment)
        #expect(offPeak.status == 0, "\(offPeak.errors)")
        let table = try await runner.budget(["prices", "show", "deepseek", "deepseek-chat"], database: database, environment: environment)
        #expect(table.output.contains("16:30-00:30 input=0.000000135,output=0.00000055"), "\(table.output)")
        let wrong = try await runner.budget(["prices", "override", "deepseek", "deepseek-chat", "--input", "0.00000027", "--output", "0.0000011",
                                             "--hours", "16:30-24:00 input=0.000000135"], database: database, environment: environment)
        #expect(wrong.status != 0 && wrong.errors.contains("times_of_day[0].end"), "the server's message: \(wrong.errors)")
        server.process.terminate()
        try await serve.waitForExit(server.process)
    }
}
