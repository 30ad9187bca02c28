// The contract every catalogue adapter fulfils: bytes in, observations and skips out.
import Foundation

/// Turns one catalogue document into price observations. Pure: no I/O, no clock.
public protocol PriceSourceAdapter: Sendable {
    var format: PriceSourceFormat { get }
    /// The name observations carry (the format's raw value unless configured otherwise).
    var sourceName: String { get }

    /// Parses a whole document. Entries with missing or malformed numbers are skipped and listed
    /// in the result; a document that is not the expected shape throws. `provider` is required
    /// for formats with one file per provider (Portkey) and ignored otherwise.
    func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult
}

extension PriceSourceAdapter {
    public func parse(_ data: Data) throws(PriceSourceError) -> ParseResult {
        try parse(data, provider: nil)
    }
}
