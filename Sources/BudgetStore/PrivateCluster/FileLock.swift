// Advisory file locks (flock) that coordinate Budget processes sharing one private cluster.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open lock file. The lock is released when the file is closed or the process dies,
/// so a killed Budget never leaves a lock behind.
final class FileLock: Sendable {
    enum Mode { case shared, exclusive }

    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PrivateClusterError(.filesystem, "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        self.descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    /// Tries once; returns false when another process holds a conflicting lock.
    func tryLock(_ mode: Mode) -> Bool {
        flock(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0
    }

    /// Waits for the lock, polling so that no thread of the concurrency pool is blocked.
    func lock(_ mode: Mode) async throws {
        while !tryLock(mode) {
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func unlock() {
        flock(descriptor, LOCK_UN)
    }
}
