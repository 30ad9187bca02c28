// `budget release`: give back an allocation's reservation unused.
import ArgumentParser
import Foundation

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release an unused allocation on the server at --url or BUDGET_URL."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The allocation's id (from `budget allocate`).") var allocationID: String

    func run() async throws {
        try await client.run { http in
            let response = try await http.post("/api/v1/allocations/\(BudgetHTTPClient.segment(allocationID))/release", json: Data("{}".utf8))
            if client.json { return ClientOutput.printJSON(response.body) }
            let release = try ClientWire.decode(ClientWire.Release.self, from: response.body)
            print(ClientOutput.fields([("id", release.id.cell), ("status", release.status.cell)]))
        }
    }
}
