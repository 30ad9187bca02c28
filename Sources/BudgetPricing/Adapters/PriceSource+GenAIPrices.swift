// Adapter for pydantic genai-prices v2 data.json (providers → models → prices per million).
import BudgetCore
import Foundation

extension PriceSource {
    /// Reads genai-prices v2: an array of providers, each with `id` and `models`. USD per **1M**
    /// tokens (`input_mtok`, `output_mtok`, `cache_read_mtok`, `cache_write_mtok`,
    /// `output_reasoning_mtok`); no batch prices (the source abstains).
    ///
    /// - Tiered values `{"base": 3, "tiers": [{"start": 200000, "price": 6}]}` give the base price
    ///   and a `ContextTierPrice` per `start` (the tier rate applies to all tokens once input
    ///   exceeds it, per the schema's "cliff" model).
    /// - Conditional prices (a list) are tried last to first; the first whose `start_date` has come
    ///   at `evaluatedAt` (on the UTC day), or that has no constraint, wins; if none holds the first
    ///   is used, as the schema says. Prices for a time of day (a `start_time`–`end_time` UTC window,
    ///   e.g. DeepSeek's peak and off-peak rates) are alternatives to that winner: the highest of
    ///   them (by input, then output) is observed as the base price, whatever the hour of the sync,
    ///   and the hours at other prices ride with it as `timesOfDay` windows, so that each call is
    ///   priced at the rate of the hour it was made in (and an estimate, made before the call, at
    ///   the dearest). Taking the rate of the sync's hour as the price would price a whole day's
    ///   calls at an off-peak discount after a sync in the evening, and move the price twice a day.
    /// - A model is observed under its `id` and under every exact `equals` name of its `match`
    ///   clause (genai's `mistral-large` lists `mistral-large-latest`, `-2407`, `-2411`), since the
    ///   source states those names have that price. `starts_with`/`regex` patterns are not expanded.
    public struct GenAIPrices: PriceSourceAdapter {
        public let format = PriceSourceFormat.genaiPrices
        public var sourceName: String
        public var evaluatedAt: Date
        public var normaliser: ModelNormaliser

        public init(sourceName: String = PriceSourceFormat.genaiPrices.rawValue, evaluatedAt: Date,
                    normaliser: ModelNormaliser = ModelNormaliser()) {
            self.sourceName = sourceName
            self.evaluatedAt = evaluatedAt
            self.normaliser = normaliser
        }

        static let fields: [(name: String, field: PriceField)] = [
            ("input_mtok", .input), ("output_mtok", .output), ("cache_read_mtok", .cacheRead),
            ("cache_write_mtok", .cacheWrite), ("output_reasoning_mtok", .reasoning),
        ]

        public func parse(_ data: Data, provider: String?) throws(PriceSourceError) -> ParseResult {
            let document: ExactJSON
            do throws(ExactJSONError) { document = try ExactJSON.parse(data) } catch { throw .invalidJSON(error) }
            guard let providers = document.arrayValue else {
                throw .unexpectedShape(path: "$", expected: "array of providers", found: document.typeName)
            }
            var collector = ObservationCollector()
            for (index, providerEntry) in providers.enumerated() {
                guard let providerID = providerEntry["id"]?.stringValue else {
                    throw .unexpectedShape(path: "$[\(index)].id", expected: "string",
                                           found: providerEntry["id"]?.typeName ?? "missing")
                }
                guard let models = providerEntry["models"]?.arrayValue else {
                    throw .unexpectedShape(path: "$[\(index)].models", expected: "array",
                                           found: providerEntry["models"]?.typeName ?? "missing")
                }
                for (modelIndex, model) in models.enumerated() {
                    let label = "\(providerID)/" + (model["id"]?.stringValue ?? "$[\(index)].models[\(modelIndex)]")
                    do throws(EntrySkip) {
                        for observation in try observations(provider: providerID, model: model) {
                            collector.add(observation)
                        }
                    } catch {
                        collector.skip(label, error.reason)
                    }
                }
            }
            return collector.result()
        }

        func observations(provider: String, model: ExactJSON) throws(EntrySkip) -> [PriceObservation] {
            guard let id = model["id"]?.stringValue, !id.isEmpty else { throw EntrySkip(.malformedEntry("model without id")) }
            guard let pricesValue = model["prices"] else { throw EntrySkip(.malformedEntry("model without prices")) }
            let prices = try activePrices(pricesValue)
            guard prices.input != nil || prices.output != nil else { throw EntrySkip(.noTokenPrices) }

            var names = [id]
            for name in Self.exactNames(model["match"]) where !names.contains(name) { names.append(name) }
            var result: [PriceObservation] = []
            var seen: Set<CanonicalModelKey> = []
            let rawEntry = model.jsonText
            for name in names {
                let canonical: CanonicalModel
                do throws(ModelNameError) { canonical = try normaliser.canonical(provider: provider, model: name) } catch {
                    if name == id { throw EntrySkip(.invalidModelName(error)) }
                    continue
                }
                guard seen.insert(canonical.key).inserted else { continue }
                result.append(PriceObservation(source: sourceName, format: format, rawProvider: provider, rawModel: name,
                                               canonical: canonical, prices: prices, rawEntry: rawEntry))
            }
            return result
        }

        /// The prices in force on `evaluatedAt`'s day: the winner of the dated entries, or, with
        /// time-of-day entries after it, the highest of them all with the other hours as
        /// `timesOfDay` windows (see the type's notes).
        func activePrices(_ value: ExactJSON) throws(EntrySkip) -> PriceSet {
            if let object = value.objectValue { return try priceSet(object) }
            guard let list = value.arrayValue, !list.isEmpty else {
                throw EntrySkip(.malformedEntry("prices is neither an object nor a non-empty list"))
            }
            func prices(_ entry: ExactJSON) throws(EntrySkip) -> PriceSet {
                guard let object = entry["prices"]?.objectValue else {
                    throw EntrySkip(.malformedEntry("conditional price without prices"))
                }
                return try priceSet(object)
            }
            var winner = 0
            var hourly: [(index: Int, start: Int, end: Int)] = []
            search: for index in list.indices.reversed() {
                switch try constraint(list[index]["constraint"]) {
                case .timeOfDay(let start, let end): hourly.append((index, start, end))
                case .holds:
                    winner = index
                    break search
                case .notYet: continue
                }
            }
            let base = try prices(list[winner])
            var hours: [(prices: PriceSet, start: Int, end: Int)] = []
            for entry in hourly.reversed() where entry.index > winner {
                hours.append((try prices(list[entry.index]), entry.start, entry.end))
            }
            var highest = base
            for hour in hours where Self.isHigher(hour.prices, than: highest) { highest = hour.prices }
            highest.timesOfDay = Self.otherHours(base: base, hours: hours, highest: highest)
            return highest
        }

        /// The hours of the day whose prices are not `highest`, as windows: each time-of-day entry's
        /// own window when the highest is the entry that holds at other times, or the rest of the
        /// day when the highest is the one time-of-day entry (DeepSeek: 00:30-16:30 UTC at the
        /// full rates, so 16:30-00:30 at the base entry's). Anything else (overlapping windows,
        /// several entries above the base) is priced at the highest all day, as before.
        static func otherHours(base: PriceSet, hours: [(prices: PriceSet, start: Int, end: Int)], highest: PriceSet) -> [TimeOfDayPrice] {
            func window(_ prices: PriceSet, start: Int, end: Int) -> TimeOfDayPrice? {
                let window = TimeOfDayPrice(start: start, end: end, input: prices.input, output: prices.output,
                                            cacheRead: prices.cacheRead, cacheWrite: prices.cacheWrite)
                return window.isValid ? window : nil
            }
            if highest == base {
                let windows = hours.compactMap { window($0.prices, start: $0.start, end: $0.end) }
                guard windows.count == hours.count,
                      !windows.indices.contains(where: { i in windows[(i + 1)...].contains { $0.overlaps(windows[i]) } }) else { return [] }
                return windows.filter { $0.input != base.input || $0.output != base.output || $0.cacheRead != base.cacheRead || $0.cacheWrite != base.cacheWrite }
            }
            guard hours.count == 1, let rest = window(base, start: hours[0].end, end: hours[0].start) else { return [] }
            return [rest]
        }

        enum ConstraintState { case holds, notYet, timeOfDay(start: Int, end: Int) }

        func constraint(_ constraint: ExactJSON?) throws(EntrySkip) -> ConstraintState {
            guard let constraint, !constraint.isNull else { return .holds }
            if let start = constraint["start_date"] {
                guard let text = start.stringValue, UTCDay.isISODate(text) else {
                    throw EntrySkip(.malformedEntry("start_date is not a yyyy-mm-dd date"))
                }
                return UTCDay.dateString(evaluatedAt) >= text ? .holds : .notYet
            }
            if let startText = constraint["start_time"]?.stringValue, let endText = constraint["end_time"]?.stringValue {
                guard let start = TimeOfDayPrice.secondsOfDay(startText), let end = TimeOfDayPrice.secondsOfDay(endText) else {
                    throw EntrySkip(.malformedEntry("start_time/end_time are not UTC times"))
                }
                return .timeOfDay(start: start, end: end)
            }
            throw EntrySkip(.malformedEntry("unknown price constraint \(constraint.jsonText)"))
        }

        /// Whether `prices` is higher than `other`: by input price, then by output price.
        static func isHigher(_ prices: PriceSet, than other: PriceSet) -> Bool {
            let zero = Decimal(0)
            let (input, otherInput) = (prices[.input] ?? zero, other[.input] ?? zero)
            if input != otherInput { return input > otherInput }
            return (prices[.output] ?? zero) > (other[.output] ?? zero)
        }

        func priceSet(_ object: ExactJSONObject) throws(EntrySkip) -> PriceSet {
            var prices = PriceSet()
            var tiers: [Int64: ContextTierPrice] = [:]
            for (name, field) in Self.fields {
                guard let value = object[name] else { continue }
                if let tiered = value.objectValue {
                    prices[field] = try PriceReading.price(tiered["base"], field: name + ".base", unit: .usdPerMillion)
                    guard let list = tiered["tiers"]?.arrayValue else {
                        throw EntrySkip(.malformedEntry("\(name).tiers is not a list"))
                    }
                    for tier in list {
                        let start = try PriceReading.tokenCount(tier["start"], field: name + ".tiers.start")
                        var entry = tiers[start] ?? ContextTierPrice(thresholdTokens: start)
                        entry[field] = try PriceReading.price(tier["price"], field: name + ".tiers.price", unit: .usdPerMillion)
                        tiers[start] = entry
                    }
                } else {
                    prices[field] = try PriceReading.price(value, field: name, unit: .usdPerMillion)
                }
            }
            prices.contextTiers = tiers.values.filter { !$0.isEmpty }.sorted { $0.thresholdTokens < $1.thresholdTokens }
            return prices
        }

        /// The `equals` names of a match clause, at the top level or directly inside a top-level `or`.
        static func exactNames(_ match: ExactJSON?) -> [String] {
            guard let match else { return [] }
            if let name = match["equals"]?.stringValue { return [name] }
            guard let alternatives = match["or"]?.arrayValue else { return [] }
            return alternatives.compactMap { $0["equals"]?.stringValue }
        }
    }
}
