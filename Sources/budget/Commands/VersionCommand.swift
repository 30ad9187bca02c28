import ArgumentParser
import BudgetCore

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Budget's version.")

    func run() {
        print(BudgetVersion.current)
    }
}
