// A JSON object that keeps its members in document order.

/// The members of a JSON object in document order. Order matters to sources such as LiteLLM
/// (whose first key, `sample_spec`, is documentation) and to storing entries unaltered.
public struct ExactJSONObject: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public let key: String
        public let value: ExactJSON

        public init(key: String, value: ExactJSON) {
            self.key = key
            self.value = value
        }
    }

    public let members: [Member]

    public init(members: [Member]) {
        self.members = members
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    /// The value of `key`. When a key is repeated the last one wins, as in most JSON readers.
    /// Linear search: source entries are small; large objects are iterated, not searched.
    public subscript(key: String) -> ExactJSON? {
        for member in members.reversed() where member.key == key { return member.value }
        return nil
    }

    public var jsonText: String { ExactJSON.object(self).jsonText }
}
