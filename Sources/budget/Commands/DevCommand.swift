// `budget dev …`: tools for developers and benchmarks (synthetic data), not for production use.
import ArgumentParser
import BudgetImport
import Foundation
import Logging

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Developer tools: synthetic data for benchmarks.",
        subcommands: [DevRhetorFileCommand.self, DevSeedCommand.self]
    )
}

struct DevRhetorFileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rhetor-file",
        abstract: "Write a large Rhetor database by repeating the rows of a real one (for the import benchmark).",
        discussion: "Example: budget dev rhetor-file --rows 1000000 --from Tests/Fixtures/rhetor/rhetor_budget_export.db /tmp/rhetor-1m.db"
    )

    @Option(help: "Number of usage rows to write.") var rows = 1_000_000
    @Option(help: "The Rhetor database whose rows are repeated.") var from = "Tests/Fixtures/rhetor/rhetor_budget_export.db"
    @Argument(help: "The new file.") var output: String

    func run() async throws {
        guard rows > 0 else { throw ValidationError("--rows must be positive") }
        let started = ContinuousClock.now
        try await RhetorSampleFile.write(rows: rows, from: from, to: output, logger: Logger(label: "budget"))
        print("Wrote \(rows) usage rows to \(output) in \(ContinuousClock.now - started).")
    }
}
