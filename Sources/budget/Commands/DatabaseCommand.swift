import ArgumentParser
import BudgetStore

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Inspect the database Budget uses.",
        subcommands: [URL.self, Stop.self, DatabasePartitionsCommand.self]
    )

    struct URL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url",
            abstract: "Print the connection string of the database in use (open it with: psql \"$(budget db url)\").",
            discussion: """
                With BUDGET_DATABASE_URL set, prints that database. Otherwise prints the private cluster's \
                Unix-socket address, starting the cluster if it is not running (it then stays running, so \
                that the printed address works; stop it with `budget db stop`).
                """
        )

        func run() async throws {
            let context = try CommandContext.make()
            if let url = context.configuration.databaseURL {
                print(try DatabaseEndpoint(url: url).url)
                return
            }
            // The address is only useful while the server runs, so this command keeps it running:
            // it acquires the cluster and exits without releasing (the shared lock dies with us).
            let access = try await DatabaseAccess.acquire(
                databaseURL: nil, dataDirectory: context.configuration.dataDirectory,
                clusterOptions: context.clusterOptions, logger: context.logger
            )
            print(access.endpoint.url)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop the private PostgreSQL of BUDGET_DATA_DIR if it is running."
        )

        func run() async throws {
            let context = try CommandContext.make()
            try await PrivateCluster(dataDirectory: context.configuration.dataDirectory, options: context.clusterOptions, logger: context.logger).stop()
        }
    }
}
