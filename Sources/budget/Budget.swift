// The `budget` executable: parses the command line and hands over to one command.
import ArgumentParser
import BudgetCore

@main
struct Budget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "The LLM budget authority for Tekton: exact ledger, limits, prices, reports.",
        discussion: BudgetConfiguration.environmentHelp,
        version: BudgetVersion.current,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, DatabaseCommand.self,
            BudgetsCommand.self, LimitsCommand.self, AllocateCommand.self, CommitCommand.self, ReleaseCommand.self,
            UsageCommand.self, StatusCommand.self, AlertsCommand.self, ReportCommand.self, PricesCommand.self, RepriceCommand.self,
            ImportCommand.self, DevCommand.self, BenchCommand.self, VersionCommand.self,
        ]
    )
}
