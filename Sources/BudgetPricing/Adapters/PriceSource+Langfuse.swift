// Adapter for Langfuse's default-model-prices.json (model definitions with pricing tiers).
import Foundation

extension PriceSource {
    /// Reads Langfuse's array of model definitions. USD per token. The list price is the tier
    /// with `isDefault: true`; other tiers whose only conditions are usage thresholds
    /// (`{"usageDetailPattern", "operator": "gt", "value": 200000}`) become context tiers; tiers
    /// chosen by `service_tier` (fast, priority, flex) are not the list price and are ignored.
    ///
    /// Prices are keyed by usage-detail names with synonyms (e.g. cache read is
    /// `input_cached_tokens` = `input_cache_read` = `cache_read_input_tokens`). Synonyms that
    /// disagree make the entry malformed. A lone `total` price (legacy completion and embedding
    /// models) is a price for every token, so it is used for input and output.
    ///
    /// Langfuse names no provider (its `matchPattern` regex encodes aliases); the provider is
    /// inferred from `modelName` (Langfuse covers OpenAI, Anthropic and Google only). A model is
    /// observed under `modelName` and, when the pattern spells it out as `<name>(-<date>)?`,
    /// also under the undated name (the only regex form read; others are not interpreted).
    public struct Langfuse: PriceSourceAdapter {
        public let format = PriceSourceFormat.langfuse
        public var sourceName: String
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.langfuse.rawValue, normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.normaliser = normaliser
        }

        static let synonyms: [(field: PriceField, names: [String])] = [
            (.input, ["input", "input_tokens", "input_text", "input_text_tokens", "prompt_token_count", "promptTokenCount"]),
            (.output, ["output", "output_tokens", "output_text", "output_text_tokens", "candidates_token_count", "candidatesTokenCount"]),
            (.cacheRead, ["input_cached_tokens", "input_cache_read", "cache_read_input_tokens", "cached_content_token_count"]),
            (.cacheWrite, ["input_cache_creation", "input_cache_creation_5m", "cache_creation_input_tokens", "cache_write_tokens"]),
            (.reasoning, ["output_reasoning_tokens", "output_reasoning", "reasoning_tokens", "thoughtsTokenCount", "thoughts_token_count"]),
        ]

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let models = document.arrayValue else {
                throw .unexpectedShape(path: "$", expected: "array of model definitions", found: document.typeName)
            }
            var collector = ObservationCollector()
            for (index, model) in models.enumerated() {
                let label = model["modelName"]?.stringValue ?? "$[\(index)]"
                do throws(EntrySkip) {
                    for observation in try observations(model) { collector.add(observation) }
                } catch {
                    collector.skip(label, error.reason)
                }
            }
            return collector.result()
        }

        func observations(_ model: ExactJSON) throws(EntrySkip) -> [PriceObservation] {
            guard let name = model["modelName"]?.stringValue, !name.isEmpty else {
                throw EntrySkip(.malformedEntry("definition without modelName"))
            }
            guard let tiers = model["pricingTiers"]?.arrayValue else {
                throw EntrySkip(.malformedEntry("pricingTiers is not a list"))
            }
            let defaults = tiers.filter { $0["isDefault"]?.boolValue == true }
            guard defaults.count == 1, let defaultPrices = defaults[0]["prices"]?.objectValue else {
                throw EntrySkip(.malformedEntry("expected exactly one default pricing tier with prices"))
            }
            var prices = try priceSet(defaultPrices)
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }

            for tier in tiers where tier["isDefault"]?.boolValue != true {
                guard let conditions = tier["conditions"]?.arrayValue, !conditions.isEmpty,
                      let tierPrices = tier["prices"]?.objectValue else { continue }
                var threshold: Int64?
                var usageOnly = true
                for condition in conditions {
                    if condition["usageDetailPattern"] != nil, condition["operator"]?.stringValue == "gt" {
                        threshold = try PriceReading.tokenCount(condition["value"], field: "conditions.value")
                    } else {
                        usageOnly = false
                    }
                }
                guard usageOnly, let threshold else { continue }
                let set = try priceSet(tierPrices)
                prices.contextTiers.append(ContextTierPrice(thresholdTokens: threshold, input: set.input, output: set.output,
                                                            cacheRead: set.cacheRead, cacheWrite: set.cacheWrite))
            }
            prices.contextTiers.sort { $0.thresholdTokens < $1.thresholdTokens }

            var names = [name]
            if let pattern = model["matchPattern"]?.stringValue, let undated = Self.undatedAlternative(name, pattern: pattern) {
                names.append(undated)
            }
            var observations: [PriceObservation] = []
            for (index, spelled) in names.enumerated() {
                let canonical: CanonicalModel
                do throws(ModelNameError) { canonical = try normaliser.canonical(provider: nil, model: spelled) } catch {
                    if index == 0 { throw EntrySkip(.invalidModelName(error)) }
                    continue
                }
                observations.append(PriceObservation(source: sourceName, format: format, rawProvider: nil, rawModel: spelled,
                                                     canonical: canonical, prices: prices, rawEntry: model.jsonText))
            }
            return observations
        }

        /// The undated name when `matchPattern` states it explicitly as `<undated>(-<date>)?`,
        /// e.g. `claude-sonnet-4-5(-20250929)?` for `claude-sonnet-4-5-20250929` or
        /// `gpt-5.5(-2026-04-23)?` for `gpt-5.5-2026-04-23`. The regex is not interpreted in general.
        static func undatedAlternative(_ name: String, pattern: String) -> String? {
            let lowerName = name.lowercased()
            for dateLength in [8, 10] {
                guard lowerName.count > dateLength + 1 else { continue }
                let date = String(lowerName.suffix(dateLength))
                let undated = String(lowerName.dropLast(dateLength + 1))
                let compact = date.replacingOccurrences(of: "-", with: "")
                guard lowerName.dropLast(dateLength).hasSuffix("-"), compact.count == 8, compact.allSatisfy(\.isNumber) else { continue }
                if pattern.lowercased().contains(undated + "(-" + date + ")?") { return undated }
            }
            return nil
        }

        func priceSet(_ object: ExactJSONObject) throws(EntrySkip) -> PriceSet {
            var prices = PriceSet()
            for (field, names) in Self.synonyms {
                var value: Decimal?
                var from = ""
                for name in names {
                    guard let read = try PriceReading.price(object[name], field: name, unit: .usdPerToken) else { continue }
                    if let value, value != read {
                        throw EntrySkip(.malformedEntry("synonyms \(from) and \(name) disagree"))
                    }
                    value = read
                    from = name
                }
                prices[field] = value
            }
            if prices.input == nil, prices.output == nil,
               let total = try PriceReading.price(object["total"], field: "total", unit: .usdPerToken) {
                prices.input = total
                prices.output = total
            }
            return prices
        }
    }
}
