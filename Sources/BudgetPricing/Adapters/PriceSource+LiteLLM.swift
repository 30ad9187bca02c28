// Adapter for LiteLLM's model_prices_and_context_window.json (also tokencost's copy of it).
import Foundation

extension PriceSource {
    /// Reads LiteLLM's flat `{ "<model key>": {entry} }` map. USD per token.
    ///
    /// Fields used: `input_cost_per_token`, `output_cost_per_token`,
    /// `cache_read_input_token_cost`, `cache_creation_input_token_cost` (5-minute write),
    /// `output_cost_per_reasoning_token`, `input_cost_per_token_batches`,
    /// `output_cost_per_token_batches`, and long-context tiers
    /// `<field>_above_<N>k_tokens`. Service tiers (`_priority`, `_flex`), 1-hour cache writes,
    /// per-character/second/image/query prices and batch variants of long-context prices are
    /// not part of the verified list price and are left in `rawEntry`.
    /// `sample_spec` (documentation) is not an entry. tokencost ships the same schema: use this
    /// adapter with `sourceName: "tokencost"`.
    public struct LiteLLM: PriceSourceAdapter {
        public let format = PriceSourceFormat.litellm
        public var sourceName: String
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.litellm.rawValue, normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.normaliser = normaliser
        }

        static let tierBases: [(prefix: String, field: PriceField)] = [
            ("input_cost_per_token_above_", .input),
            ("output_cost_per_token_above_", .output),
            ("cache_read_input_token_cost_above_", .cacheRead),
            ("cache_creation_input_token_cost_above_", .cacheWrite),
        ]

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let root = document.objectValue else {
                throw .unexpectedShape(path: "$", expected: "object keyed by model name", found: document.typeName)
            }
            var collector = ObservationCollector()
            for member in root.members where member.key != "sample_spec" {
                do throws(EntrySkip) {
                    collector.add(try observation(key: member.key, value: member.value))
                } catch {
                    collector.skip(member.key, error.reason)
                }
            }
            return collector.result()
        }

        func observation(key: String, value: ExactJSON) throws(EntrySkip) -> PriceObservation {
            guard let entry = value.objectValue else { throw EntrySkip(.malformedEntry("entry is a \(value.typeName)")) }
            let unit = PriceReading.Unit.usdPerToken
            func read(_ field: String) throws(EntrySkip) -> Decimal? {
                try PriceReading.price(entry[field], field: field, unit: unit)
            }
            var prices = PriceSet(
                input: try read("input_cost_per_token"),
                output: try read("output_cost_per_token"),
                cacheRead: try read("cache_read_input_token_cost"),
                cacheWrite: try read("cache_creation_input_token_cost"),
                reasoning: try read("output_cost_per_reasoning_token"),
                batchInput: try read("input_cost_per_token_batches"),
                batchOutput: try read("output_cost_per_token_batches"))
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }

            var tiers: [Int64: ContextTierPrice] = [:]
            for member in entry.members {
                for base in Self.tierBases where member.key.hasPrefix(base.prefix) && member.key.hasSuffix("k_tokens") {
                    let middle = member.key.dropFirst(base.prefix.count).dropLast("k_tokens".count)
                    guard let threshold = PriceReading.thousands(middle) else { continue }  // e.g. `_above_200k_tokens_priority`
                    var tier = tiers[threshold] ?? ContextTierPrice(thresholdTokens: threshold)
                    tier[base.field] = try PriceReading.price(member.value, field: member.key, unit: unit)
                    tiers[threshold] = tier
                }
            }
            prices.contextTiers = tiers.values.filter { !$0.isEmpty }.sorted { $0.thresholdTokens < $1.thresholdTokens }

            let rawProvider = entry["litellm_provider"]?.stringValue
            let canonical: CanonicalModel
            do throws(ModelNameError) { canonical = try normaliser.canonical(provider: rawProvider, model: key) } catch {
                throw EntrySkip(.invalidModelName(error))
            }
            return PriceObservation(source: sourceName, format: format, rawProvider: rawProvider, rawModel: key,
                                    canonical: canonical, prices: prices, rawEntry: value.jsonText)
        }
    }
}
