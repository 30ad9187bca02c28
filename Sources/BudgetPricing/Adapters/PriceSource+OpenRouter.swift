// Adapter for OpenRouter's GET /api/v1/models response (USD per token as decimal strings).
import Foundation

extension PriceSource {
    /// Reads `{"data": [{"id", "canonical_slug", "pricing": {...}}]}`. Prices are USD per token
    /// written as decimal **strings** (`"0.0000025"`): `prompt`, `completion`, `input_cache_read`,
    /// `input_cache_write`, `internal_reasoning`. `"-1"` means dynamic pricing (routers such as
    /// `openrouter/auto`) and is skipped. Per-request, image, audio and web-search prices are not
    /// token prices.
    ///
    /// Prices are OpenRouter's own. The normaliser keys closed-weight vendor models
    /// (`anthropic/…`, `openai/gpt-…`, `google/gemini-…`, `x-ai/grok-…`) to the vendor, whose list
    /// price OpenRouter passes through; everything else stays under provider `openrouter`.
    public struct OpenRouter: PriceSourceAdapter {
        public let format = PriceSourceFormat.openrouter
        public var sourceName: String
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.openrouter.rawValue, normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.normaliser = normaliser
        }

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let root = document.objectValue else {
                throw .unexpectedShape(path: "$", expected: "object with \"data\"", found: document.typeName)
            }
            guard let models = root["data"]?.arrayValue else {
                throw .unexpectedShape(path: "$.data", expected: "array", found: root["data"]?.typeName ?? "missing")
            }
            var collector = ObservationCollector()
            for (index, model) in models.enumerated() {
                let label = model["id"]?.stringValue ?? "$.data[\(index)]"
                do throws(EntrySkip) {
                    collector.add(try observation(model))
                } catch {
                    collector.skip(label, error.reason)
                }
            }
            return collector.result()
        }

        func observation(_ model: ExactJSON) throws(EntrySkip) -> PriceObservation {
            guard let id = model["id"]?.stringValue, !id.isEmpty else { throw EntrySkip(.malformedEntry("model without id")) }
            guard let pricing = model["pricing"]?.objectValue else { throw EntrySkip(.noTokenPrices) }
            for name in ["prompt", "completion"] where pricing[name]?.stringValue == "-1" {
                throw EntrySkip(.dynamicPricing)
            }
            func read(_ name: String) throws(EntrySkip) -> Decimal? {
                try PriceReading.price(pricing[name], field: "pricing." + name, unit: .usdPerToken, numericStrings: true)
            }
            let prices = PriceSet(input: try read("prompt"), output: try read("completion"),
                                  cacheRead: try read("input_cache_read"), cacheWrite: try read("input_cache_write"),
                                  reasoning: try read("internal_reasoning"))
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }
            let canonical: CanonicalModel
            do throws(ModelNameError) { canonical = try normaliser.canonical(provider: "openrouter", model: id) } catch {
                throw EntrySkip(.invalidModelName(error))
            }
            return PriceObservation(source: sourceName, format: format, rawProvider: "openrouter", rawModel: id,
                                    canonical: canonical, prices: prices, rawEntry: model.jsonText)
        }
    }
}
