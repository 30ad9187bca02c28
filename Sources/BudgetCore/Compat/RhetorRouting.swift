// Rhetor's budget-aware routing (BudgetManager.find_cheaper_alternative and
// route_with_budget_awareness) as choices over the current prices. Whether a choice fits the
// budget is the engine's check, made by the caller for each choice in turn.
import Foundation

public enum RhetorRouting {
    /// How a route was chosen, in Rhetor's order of trying.
    public enum Step: String, Sendable, CaseIterable {
        /// The caller's default model fits the budget.
        case `default`
        /// The first cheaper alternative (`cheaperAlternatives`) fits.
        case cheaper
        /// A free model fits.
        case free
        /// The cheapest priced model fits.
        case cheapest
        /// Nothing fits: the default model, with a warning (Rhetor's "emergency" fallback).
        case emergency
    }

    /// Rhetor's provider preference for a task type: chat prefers openai; code, planning,
    /// reasoning and everything else anthropic.
    public static func providerPreference(taskType: String?) -> [String] {
        Scope.key(taskType) == "chat" ? ["openai", "anthropic", "ollama"] : ["anthropic", "openai", "ollama"]
    }

    /// A model's price per token of input plus output, the figure Rhetor compared.
    public static func perToken(_ price: Price) -> Decimal { price.input + price.output }

    /// The models whose input + output price per token is below `current`'s, in Rhetor's order:
    /// by the task type's provider preference (providers it does not name last), then by price,
    /// then by name. Empty when `current` is free.
    public static func cheaperAlternatives(than current: Price, taskType: String?, among prices: [Price]) -> [Price] {
        let limit = perToken(current)
        guard limit > 0 else { return [] }
        let order = providerPreference(taskType: taskType)
        func rank(_ price: Price) -> Int { order.firstIndex(of: Scope.key(price.provider) ?? "") ?? 99 }
        return prices.filter { perToken($0) < limit }.sorted {
            (rank($0), perToken($0), $0.provider, $0.model) < (rank($1), perToken($1), $1.provider, $1.model)
        }
    }

    /// Models that cost nothing, ollama's first, then simulated ones, then the rest (by name).
    public static func freeModels(among prices: [Price]) -> [Price] {
        let order = ["ollama", "simulated"]
        func rank(_ price: Price) -> Int { order.firstIndex(of: Scope.key(price.provider) ?? "") ?? order.count }
        return prices.filter { perToken($0) == 0 }.sorted { (rank($0), $0.provider, $0.model) < (rank($1), $1.provider, $1.model) }
    }

    /// The cheapest model (by input + output per token, then by name).
    public static func cheapest(among prices: [Price]) -> Price? {
        prices.min { (perToken($0), $0.provider, $0.model) < (perToken($1), $1.provider, $1.model) }
    }
}
