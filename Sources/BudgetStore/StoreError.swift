// Errors of the repositories that callers act on (not found, conflicts), apart from driver errors.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let notFound = Code(name: "not_found")
        public static let conflict = Code(name: "conflict")
        public static let staleCatalog = Code(name: "stale_catalog")
        public static let corrupt = Code(name: "corrupt")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
