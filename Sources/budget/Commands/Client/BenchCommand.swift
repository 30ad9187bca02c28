// `budget bench`: load-test a running server with concurrent allocate/commit (or check) callers.
import ArgumentParser
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test the server at --url or BUDGET_URL with concurrent allocate+commit pairs.",
        discussion: """
            Creates a budget `bench-<random>` with an enforced daily limit and a price for benchprov/bench-model, \
            then runs --clients concurrent callers (one HTTP/1.1 connection each, plain http:// only) for \
            --warmup + --duration seconds, as fast as each can go or at the --rate offered. Prints throughput, \
            p50/p90/p99/max latency and errors by status (--json: the same figures as JSON; --latencies: every call as CSV). \
            Exit status 1 when nothing succeeded.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Concurrent callers (one connection each).") var clients = 32
    @Option(help: "Seconds measured.") var duration: Double = 10
    @Option(help: "Seconds run before measuring.") var warmup: Double = 2
    @Flag(name: .customLong("check-only"), help: "Time POST /api/v1/check instead of allocate+commit.") var checkOnly = false
    @Option(help: ArgumentHelp(
        "Offer this many pairs (or checks) per second in all, spread over the clients, and time each from when it was due (open loop). Default: each client starts the next when the last has ended.",
        valueName: "per-second")) var rate: Double?
    @Option(help: "Event-loop threads driving the callers. One keeps up with thousands of pairs a second; on a machine the server shares, more only take CPU from what is measured.")
    var threads = 1
    @Option(name: .customLong("latencies"), help: ArgumentHelp(
        "Also write every measured call to this file as CSV: start_ms (from the start of the measured window; in an open loop, when it was due), latency_ms, call (allocate, commit or check).",
        valueName: "file")) var latenciesFile: String?
    @Flag(name: .customLong("idempotency-keys"), help: "Send every allocate and commit with an Idempotency-Key of its own.")
    var idempotencyKeys = false

    func validate() throws {
        guard (1...10_000).contains(clients) else { throw ValidationError("--clients must be between 1 and 10000") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be more than 0 and at most 86400 seconds") }
        guard warmup >= 0, warmup <= 3_600 else { throw ValidationError("--warmup must be between 0 and 3600 seconds") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be more than 0 and at most 1000000 per second") }
    }

    func run() async throws {
        let report: BenchReport
        do {
            report = try await runLoad(
                baseURL: client.baseURL, clients: clients,
                duration: .milliseconds(Int64((duration * 1000).rounded())),
                warmup: .milliseconds(Int64((warmup * 1000).rounded())),
                checkOnly: checkOnly, rate: rate, threads: threads, keepCalls: latenciesFile != nil,
                idempotencyKeys: idempotencyKeys
            )
        } catch let error as ClientError {
            ClientOutput.printError(error.description)
            throw ExitCode(1)
        }
        if let latenciesFile {
            do {
                try BenchCall.csv(report.calls).write(toFile: latenciesFile, atomically: true, encoding: .utf8)
            } catch {
                ClientOutput.printError("could not write --latencies \(latenciesFile): \(error.localizedDescription)")
                throw ExitCode(1)
            }
        }
        if client.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.render())
        }
        if report.completed == 0 { throw ExitCode(1) }
    }
}
