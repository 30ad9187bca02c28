// Adapter for Simon Willison's llm-prices (current-v1.json, historical-v1.json, data/<vendor>.json).
import Foundation

extension PriceSource {
    /// Reads llm-prices. USD per **1M** tokens; fields `input`, `output`, `input_cached`
    /// (cache read). No cache-write, batch or reasoning prices: the source abstains on those.
    ///
    /// Accepts the live `current-v1.json` (`{"updated_at", "prices": [...]}`), the
    /// `historical-v1.json` rows (with `from_date` inclusive / `to_date` exclusive) and the
    /// upstream `data/<vendor>.json` files (`{"vendor", "models": [{"id", "price_history"}]}`).
    /// Dated rows are selected for `evaluatedAt` (UTC day).
    ///
    /// Long-context prices are separate pseudo-models (`gemini-2.5-pro-200k`, `gpt-5.4-272k`):
    /// they become a `ContextTierPrice` of their base model (threshold N×1000, N ≥ 100 so that a
    /// real name like `gpt-4-32k` is never mistaken for one) and are not models of their own.
    public struct LLMPrices: PriceSourceAdapter {
        public let format = PriceSourceFormat.llmPrices
        public var sourceName: String
        public var evaluatedAt: Date
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.llmPrices.rawValue, evaluatedAt: Date,
                    normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.evaluatedAt = evaluatedAt
            self.normaliser = normaliser
        }

        struct Row {
            let id: String
            let vendor: String?
            let entry: ExactJSON
            let prices: PriceSet
        }

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let root = document.objectValue else {
                throw .unexpectedShape(path: "$", expected: "object with \"prices\" or \"models\"", found: document.typeName)
            }
            let day = UTCDay.dateString(evaluatedAt)
            var collector = ObservationCollector()
            var rows: [Row] = []

            if let priceRows = root["prices"] {
                guard let list = priceRows.arrayValue else {
                    throw .unexpectedShape(path: "$.prices", expected: "array", found: priceRows.typeName)
                }
                for (index, item) in list.enumerated() {
                    let id = item["id"]?.stringValue ?? "$.prices[\(index)]"
                    do throws(EntrySkip) {
                        guard let id = item["id"]?.stringValue, !id.isEmpty else { throw EntrySkip(.malformedEntry("row without id")) }
                        guard try isValid(item, on: day) else { continue }
                        rows.append(Row(id: id, vendor: item["vendor"]?.stringValue, entry: item, prices: try prices(of: item)))
                    } catch {
                        collector.skip(id, error.reason)
                    }
                }
            } else if let models = root["models"] {
                guard let list = models.arrayValue else {
                    throw .unexpectedShape(path: "$.models", expected: "array", found: models.typeName)
                }
                let vendor = root["vendor"]?.stringValue ?? provider
                for (index, model) in list.enumerated() {
                    let id = model["id"]?.stringValue ?? "$.models[\(index)]"
                    do throws(EntrySkip) {
                        guard let id = model["id"]?.stringValue, !id.isEmpty else { throw EntrySkip(.malformedEntry("model without id")) }
                        guard let history = model["price_history"]?.arrayValue else {
                            throw EntrySkip(.malformedEntry("price_history is not an array"))
                        }
                        var current: ExactJSON?
                        for row in history where try isValid(row, on: day) { current = row }
                        guard let current else { continue }  // not priced on that day
                        rows.append(Row(id: id, vendor: vendor, entry: model, prices: try prices(of: current)))
                    } catch {
                        collector.skip(id, error.reason)
                    }
                }
            } else {
                throw .unexpectedShape(path: "$", expected: "object with \"prices\" or \"models\"", found: "object without them")
            }

            // Fold long-context pseudo-models into their base model.
            let ids = Set(rows.map(\.id))
            var tiersByBase: [String: [ContextTierPrice]] = [:]
            var models: [Row] = []
            for row in rows {
                if let (base, threshold) = Self.pseudoModel(row.id) {
                    guard ids.contains(base) else {
                        collector.skip(row.id, .contextTierWithoutBase(base: base))
                        continue
                    }
                    tiersByBase[base, default: []].append(ContextTierPrice(
                        thresholdTokens: threshold, input: row.prices.input, output: row.prices.output,
                        cacheRead: row.prices.cacheRead))
                } else {
                    models.append(row)
                }
            }
            for row in models {
                var prices = row.prices
                prices.contextTiers = (tiersByBase[row.id] ?? []).sorted { $0.thresholdTokens < $1.thresholdTokens }
                do throws(ModelNameError) {
                    let canonical = try normaliser.canonical(provider: row.vendor, model: row.id)
                    collector.add(PriceObservation(source: sourceName, format: format, rawProvider: row.vendor,
                                                   rawModel: row.id, canonical: canonical, prices: prices,
                                                   rawEntry: row.entry.jsonText))
                } catch {
                    collector.skip(row.id, .invalidModelName(error))
                }
            }
            return collector.result()
        }

        /// `from_date` ≤ day < `to_date`, each bound optional (null = open-ended).
        func isValid(_ row: ExactJSON, on day: String) throws(EntrySkip) -> Bool {
            for field in ["from_date", "to_date"] {
                guard let value = row[field], !value.isNull else { continue }
                guard let text = value.stringValue, UTCDay.isISODate(text) else {
                    throw EntrySkip(.malformedEntry("\(field) is not a yyyy-mm-dd date"))
                }
                if field == "from_date", day < text { return false }
                if field == "to_date", day >= text { return false }
            }
            return true
        }

        func prices(of row: ExactJSON) throws(EntrySkip) -> PriceSet {
            let unit = PriceReading.Unit.usdPerMillion
            let prices = PriceSet(input: try PriceReading.price(row["input"], field: "input", unit: unit),
                                  output: try PriceReading.price(row["output"], field: "output", unit: unit),
                                  cacheRead: try PriceReading.price(row["input_cached"], field: "input_cached", unit: unit))
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }
            return prices
        }

        /// `gemini-2.5-pro-200k` → (`gemini-2.5-pro`, 200000); nil for other names.
        static func pseudoModel(_ id: String) -> (base: String, threshold: Int64)? {
            guard id.hasSuffix("k"), let dash = id.lastIndex(of: "-") else { return nil }
            let number = id[id.index(after: dash)...].dropLast()
            guard let threshold = PriceReading.thousands(number), threshold >= 100_000 else { return nil }
            return (String(id[..<dash]), threshold)
        }
    }
}
