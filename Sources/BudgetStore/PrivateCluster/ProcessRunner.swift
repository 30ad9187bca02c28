// Runs the PostgreSQL command-line tools (initdb, pg_ctl, …) as child processes, optionally as
// another user (PostgreSQL refuses to run as root).
//
// posix_spawn rather than Foundation.Process: on Linux, Process learns of a child's exit through
// a descriptor the child inherits, and the server that `pg_ctl start` leaves behind inherits it
// too, so Process would wait for the server to stop. Here the child closes every descriptor but
// 0–2, and a dedicated thread waits for it.
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one finished child process.
struct CommandResult: Sendable {
    var status: Int32
    var output: String
}

struct ProcessRunner: Sendable {
    /// When set, commands run as this user through `runuser` (used when Budget runs as root).
    var runAsUser: String?

    func run(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
        var argv = [executable] + arguments
        if let user = runAsUser {
            argv = [try Self.locate("runuser"), "-u", user, "--"] + argv
        }
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("budget-cmd-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        let status = try await Self.spawnAndWait(argv, outputPath: outputPath)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return CommandResult(status: status, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts a command and does not wait for it (a watchdog that outlives this process).
    static func launchDetached(_ argv: [String]) throws {
        _ = try spawn(argv, outputPath: "/dev/null")
    }

    /// Runs `argv` to its end and returns its exit status: input from /dev/null, output to
    /// `outputPath` and errors there too (or to `errorPath`), in `environment` (nil: this
    /// process's). The tests run the built `budget` binary this way as well.
    static func spawnAndWait(_ argv: [String], outputPath: String, errorPath: String? = nil,
                             environment: [String: String]? = nil) async throws -> Int32 {
        let pid = try spawn(argv, outputPath: outputPath, errorPath: errorPath, environment: environment)
        return await wait(for: pid)
    }

    private static func spawn(_ argv: [String], outputPath: String, errorPath: String? = nil, environment: [String: String]? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // The parent opens the output file before runuser changes user, so root's 0600 file is fine.
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        closeInheritedDescriptors(&actions)

        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnvironment = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = cArgs.withUnsafeBufferPointer { buffer in
            if let cEnvironment {
                cEnvironment.withUnsafeBufferPointer { envp in
                    posix_spawn(&pid, argv[0], &actions, nil, UnsafeMutablePointer(mutating: buffer.baseAddress!),
                                UnsafeMutablePointer(mutating: envp.baseAddress!))
                }
            } else {
                posix_spawn(&pid, argv[0], &actions, nil, UnsafeMutablePointer(mutating: buffer.baseAddress!), environ)
            }
        }
        guard rc == 0 else {
            throw PrivateClusterError(.toolMissing, "cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// Closes every descriptor from 3 up in the child: glibc's posix_spawn_file_actions_addclosefrom_np
    /// (looked up at run time, as Swift's Glibc module does not export it), else each open descriptor.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
            if addCloseFrom(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 && fcntl(fd, F_GETFD) != -1 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// Waits on a thread of its own, so that no thread of the concurrency pool blocks.
    private static func wait(for pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
                let exited = (status & 0x7f) == 0
                continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
            thread.start()
        }
    }

    /// Finds a system tool such as `runuser` or `setsid` in the usual places.
    static func locate(_ tool: String) throws -> String {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw PrivateClusterError(.toolMissing, "`\(tool)` was not found in /usr/sbin, /sbin, /usr/bin or /bin")
    }
}
