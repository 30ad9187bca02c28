// Exact cost of a call: provider-reported tokens normalised, then Σ tokens × price per kind.
import Foundation

/// Computes what a call costs, exactly, from token counts and a model's prices.
///
/// Token semantics: `normalise` turns a provider's report into disjoint kinds (see
/// `UsageConvention`); `cost` then charges
///
///     input × input + cacheRead × cacheRead + cacheWrite × cacheWrite
///       + (output − reasoning) × output + reasoning × reasoning      (distinct reasoning price)
///       + output × output                                             (no distinct reasoning price)
///
/// - Long context: when prompt tokens (uncached + cache read + cache write) exceed a tier's
///   threshold, that tier's prices apply to the *whole* request (Anthropic and Google bill this
///   way; genai-prices calls it the "cliff" model). The highest exceeded tier wins; kinds the
///   tier does not state keep the base price.
/// - Batch: `batch: true` uses `batchInput`/`batchOutput` for input and output (required);
///   cache and reasoning kinds keep their standard prices (an over- rather than under-estimate).
///   A batch request above a context threshold is refused: no source states that price.
/// - Cache reads/writes without a price of their own are charged at the input price, as
///   BudgetCore's calculator does (never free), and listed in `inputPriceFallbacks`.
/// - Any other kind with tokens but no price throws `missingPrice`: unknown is never $0.
public enum CostCalculator {
    /// Provider-reported counts → normalised counts (disjoint input/cache, reasoning inside output).
    public static func normalise(reported: TokenCounts, convention: UsageConvention) throws(CostError) -> TokenCounts {
        try checkNonNegative(reported)
        var counts = reported
        switch convention {
        case .openAI:
            let (cached, overflow) = reported.cacheRead.addingReportingOverflow(reported.cacheWrite)
            guard !overflow else { throw .overflow }
            guard cached <= reported.input else { throw .cachedExceedsInput(input: reported.input, cached: cached) }
            counts.input = reported.input - cached
        case .google:
            guard reported.cacheRead <= reported.input else {
                throw .cachedExceedsInput(input: reported.input, cached: reported.cacheRead)
            }
            counts.input = reported.input - reported.cacheRead
            let (output, overflow) = reported.output.addingReportingOverflow(reported.reasoning)
            guard !overflow else { throw .overflow }
            counts.output = output
        case .anthropic, .normalised:
            break
        }
        guard counts.reasoning <= counts.output else {
            throw .reasoningExceedsOutput(output: counts.output, reasoning: counts.reasoning)
        }
        return counts
    }

    /// The exact cost of normalised `tokens` under `prices`.
    public static func cost(of tokens: TokenCounts, prices: PriceSet, batch: Bool = false) throws(CostError) -> CostBreakdown {
        try checkNonNegative(tokens)
        guard tokens.reasoning <= tokens.output else {
            throw .reasoningExceedsOutput(output: tokens.output, reasoning: tokens.reasoning)
        }
        guard let prompt = tokens.promptTokens else { throw .overflow }
        let tier = prices.contextTiers.filter { prompt > $0.thresholdTokens }.max { $0.thresholdTokens < $1.thresholdTokens }
        if batch, let tier { throw .noBatchPriceForContextTier(thresholdTokens: tier.thresholdTokens) }

        let inputField: PriceField = batch ? .batchInput : .input
        let outputField: PriceField = batch ? .batchOutput : .output
        let inputPrice = batch ? prices.batchInput : (tier?.input ?? prices.input)
        let outputPrice = batch ? prices.batchOutput : (tier?.output ?? prices.output)

        var lines: [CostLine] = []
        var fallbacks: [PriceField] = []
        func charge(_ field: PriceField, _ count: Int64, _ price: Decimal?) throws(CostError) {
            guard count > 0 else { return }
            guard let price else { throw .missingPrice(field) }
            lines.append(CostLine(field: field, tokens: count, unitPrice: price, amount: Decimal(count) * price))
        }
        func cachePrice(_ field: PriceField, tierPrice: Decimal?, basePrice: Decimal?, count: Int64) -> Decimal? {
            if let price = tierPrice ?? basePrice { return price }
            if count > 0, let input = tier?.input ?? prices.input {
                fallbacks.append(field)
                return input
            }
            return nil
        }

        try charge(inputField, tokens.input, inputPrice)
        try charge(.cacheRead, tokens.cacheRead,
                   cachePrice(.cacheRead, tierPrice: tier?.cacheRead, basePrice: prices.cacheRead, count: tokens.cacheRead))
        try charge(.cacheWrite, tokens.cacheWrite,
                   cachePrice(.cacheWrite, tierPrice: tier?.cacheWrite, basePrice: prices.cacheWrite, count: tokens.cacheWrite))
        if let reasoningPrice = prices.reasoning {
            try charge(outputField, tokens.output - tokens.reasoning, outputPrice)
            try charge(.reasoning, tokens.reasoning, reasoningPrice)
        } else {
            try charge(outputField, tokens.output, outputPrice)
        }
        let total = lines.reduce(Decimal.zero) { $0 + $1.amount }
        return CostBreakdown(lines: lines, total: total, contextTier: tier, batch: batch, inputPriceFallbacks: fallbacks)
    }

    /// Normalises a provider's report, then prices it.
    public static func cost(reported: TokenCounts, convention: UsageConvention, prices: PriceSet,
                            batch: Bool = false) throws(CostError) -> CostBreakdown {
        try cost(of: normalise(reported: reported, convention: convention), prices: prices, batch: batch)
    }

    private static func checkNonNegative(_ counts: TokenCounts) throws(CostError) {
        if counts.input < 0 { throw .negativeCount(.input) }
        if counts.output < 0 { throw .negativeCount(.output) }
        if counts.cacheRead < 0 { throw .negativeCount(.cacheRead) }
        if counts.cacheWrite < 0 { throw .negativeCount(.cacheWrite) }
        if counts.reasoning < 0 { throw .negativeCount(.reasoning) }
    }
}
