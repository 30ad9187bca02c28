// Adapter for Portkey-AI/models pricing/<provider>.json (US cents per token).
import Foundation

extension PriceSource {
    /// Reads one Portkey provider file `{ "<model>": {"pricing_config": {...}}, "default": {...} }`.
    /// Prices are **US cents per token** (upstream README), so $/token = price × 10^-2.
    ///
    /// `pay_as_you_go.request_token` is input, `response_token` output, `cache_read_input_token`
    /// and `cache_write_input_token` the cache prices, `reasoning_token` reasoning;
    /// `batch_config.request_token`/`response_token` the batch prices. `custom_pricing` regions and
    /// execution modes, `additional_units`, `calculate` and fine-tune prices are not list prices.
    /// `default` is a zero-price template, not a model.
    ///
    /// Context tiers are encoded in keys: `gemini-2.5-pro-lte-128k` is the base price of
    /// `gemini-2.5-pro` and `-gt-128k` its tier above 128 000 tokens. The threshold is taken from
    /// the name as written, although Google's real threshold for Gemini 2.5 is 200k.
    public struct Portkey: PriceSourceAdapter {
        public let format = PriceSourceFormat.portkey
        public var sourceName: String
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.portkey.rawValue, normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.normaliser = normaliser
        }

        enum TierSuffix {
            case base(String, Int64)
            case above(String, Int64)
        }

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            guard let provider, !provider.trimmingWhitespace().isEmpty else { throw .providerRequired(format) }
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let root = document.objectValue else {
                throw .unexpectedShape(path: "$", expected: "object keyed by model", found: document.typeName)
            }
            var collector = ObservationCollector()
            var bases: [(name: String, raw: String, prices: PriceSet, entry: ExactJSON)] = []
            var above: [String: [(raw: String, tier: ContextTierPrice)]] = [:]
            for member in root.members where member.key != "default" {
                do throws(EntrySkip) {
                    let prices = try priceSet(member.value)
                    switch Self.tierSuffix(member.key) {
                    case .above(let base, let threshold)?:
                        let tier = ContextTierPrice(thresholdTokens: threshold, input: prices.input, output: prices.output,
                                                    cacheRead: prices.cacheRead, cacheWrite: prices.cacheWrite)
                        above[base, default: []].append((member.key, tier))
                    case .base(let base, _)?:
                        bases.append((base, member.key, prices, member.value))
                    case nil:
                        bases.append((member.key, member.key, prices, member.value))
                    }
                } catch {
                    collector.skip(member.key, error.reason)
                }
            }
            let baseNames = Set(bases.map(\.name))
            for (base, tiers) in above where !baseNames.contains(base) {
                for tier in tiers { collector.skip(tier.raw, .contextTierWithoutBase(base: base)) }
            }
            for base in bases {
                var prices = base.prices
                prices.contextTiers = (above[base.name] ?? []).map(\.tier).sorted { $0.thresholdTokens < $1.thresholdTokens }
                do throws(ModelNameError) {
                    let canonical = try normaliser.canonical(provider: provider, model: base.name)
                    collector.add(PriceObservation(source: sourceName, format: format, rawProvider: provider,
                                                   rawModel: base.raw, canonical: canonical, prices: prices,
                                                   rawEntry: base.entry.jsonText))
                } catch {
                    collector.skip(base.raw, .invalidModelName(error))
                }
            }
            return collector.result()
        }

        func priceSet(_ value: ExactJSON) throws(EntrySkip) -> PriceSet {
            guard let entry = value.objectValue else { throw EntrySkip(.malformedEntry("entry is a \(value.typeName)")) }
            guard let config = entry["pricing_config"]?.objectValue else { throw EntrySkip(.noTokenPrices) }
            let payg = config["pay_as_you_go"]
            let batch = config["batch_config"]
            func read(_ container: ExactJSON?, _ name: String, _ path: String) throws(EntrySkip) -> Decimal? {
                guard let slot = container?[name], !slot.isNull else { return nil }
                guard slot.objectValue != nil else { throw EntrySkip(.malformedNumber(field: path, value: slot.jsonText)) }
                return try PriceReading.price(slot["price"], field: path, unit: .centsPerToken)
            }
            let prices = PriceSet(
                input: try read(payg, "request_token", "pay_as_you_go.request_token"),
                output: try read(payg, "response_token", "pay_as_you_go.response_token"),
                cacheRead: try read(payg, "cache_read_input_token", "pay_as_you_go.cache_read_input_token"),
                cacheWrite: try read(payg, "cache_write_input_token", "pay_as_you_go.cache_write_input_token"),
                reasoning: try read(payg, "reasoning_token", "pay_as_you_go.reasoning_token"),
                batchInput: try read(batch, "request_token", "batch_config.request_token"),
                batchOutput: try read(batch, "response_token", "batch_config.response_token"))
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }
            return prices
        }

        /// `…-lte-128k` → base, `…-gt-128k` → tier above 128 000 tokens.
        static func tierSuffix(_ key: String) -> TierSuffix? {
            for (marker, isBase) in [("-lte-", true), ("-gt-", false)] {
                guard key.hasSuffix("k"), let range = key.range(of: marker, options: .backwards) else { continue }
                let number = key[range.upperBound...].dropLast()
                guard let threshold = PriceReading.thousands(number) else { continue }
                let base = String(key[..<range.lowerBound])
                return isBase ? .base(base, threshold) : .above(base, threshold)
            }
            return nil
        }
    }
}
