// The request context of every route: JSON in and out with ISO 8601 dates, and room for large
// batch uploads. No key strategy: wire names are spelled out in CodingKeys, because a key
// strategy would also rewrite the keys of caller metadata.
import BudgetCore
import Foundation
import Hummingbird

public struct BudgetRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Usage batches of 10,000 records need more than Hummingbird's 2 MiB default.
    public static let maxBodySize = 32 * 1024 * 1024
    public var maxUploadSize: Int { Self.maxBodySize }

    public var requestDecoder: JSONDecoder { BudgetJSON.decoder }
    public var responseEncoder: JSONEncoder { BudgetJSON.encoder }
}

/// The JSON conventions of the wire contract.
public enum BudgetJSON {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(InstantFormat.string(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = InstantFormat.parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO 8601 timestamp with a time zone, e.g. 2026-11-21T10:00:00Z")
        }
        return decoder
    }()
}
