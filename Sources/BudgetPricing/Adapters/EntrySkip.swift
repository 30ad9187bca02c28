// Internal error that carries why one entry is skipped, so adapters can use typed throws.

struct EntrySkip: Error {
    let reason: SkippedEntry.Reason

    init(_ reason: SkippedEntry.Reason) {
        self.reason = reason
    }
}
