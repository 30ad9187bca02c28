// Errors of the importers: what went wrong, in words a person running `budget import` can act on.
import Foundation

public struct ImportError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// The file is missing, unreadable, not SQLite, or corrupted.
        case unreadableFile
        /// The file is SQLite but does not have Rhetor's tables and columns.
        case notRhetor
        /// A row cannot be represented faithfully (a negative cost, an unparsable timestamp...).
        case invalidRow
        /// The file disagrees with what an earlier import of the same source stored.
        case conflictingHistory
        /// The ledger after the transform does not reproduce the file's figures; rolled back.
        case reconciliationFailed
        /// An option of the import is not usable (an unknown time zone...).
        case invalidOption
        /// PostgreSQL refused the transform; rolled back.
        case transformFailed
        /// The policy file is not an Apollo policy file.
        case invalidPolicyFile
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
