// /api/v1/compat/rhetor: the budget routes of Rhetor's BudgetManager, in its shapes and field
// names, on Budget's engine, ledger and prices — so Rhetor changes only its base URL. Where
// Rhetor was wrong, Budget is right: global ('all') limits are enforced like every other limit,
// and a model without a price is never free (its cost is unknown and said to be).
import BudgetCore
import BudgetPricing
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

struct RhetorCompatController {
    let engine: BudgetEngine
    let repository: RhetorCompatRepository
    let resets: WindowResetRepository
    let limits: LimitRepository
    let idempotency: IdempotentResponses
    /// The one Budget budget the routes act on (created on first use).
    var budgetName: String = RhetorCompat.defaultBudgetName
    /// Rhetor's default enforcement for a new limit when none is given (its RHETOR_BUDGET_POLICY default).
    var defaultPolicy: Policy = .warn

    /// Routes that change limits, policies or windows go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let rhetor = routes.api.group("compat/rhetor")
        let rhetorAdmin = routes.administration.group("compat/rhetor")
        rhetor.get("budget") { _, context in
            let (budget, catalog) = try await rhetorBudget(context.logger)
            var body = try await statusBody(budget: budget, catalog: catalog, category: nil, periods: RhetorCompat.periods, logger: context.logger)
            body["settings"] = try await settingsBody(budget: budget, logger: context.logger)
            return try JSONResponse.make(.ok, JSONValue.object(body))
        }
        rhetor.get("budget/settings") { _, context in
            let (budget, _) = try await rhetorBudget(context.logger)
            return try JSONResponse.make(.ok, try await settingsBody(budget: budget, logger: context.logger))
        }
        rhetorAdmin.post("budget/limit") { request, context in try await setLimit(request, context) }
        rhetorAdmin.post("budget/policy") { request, context in try await setPolicy(request, context) }
        rhetor.get("budget/usage") { request, context in try await summary(request, context) }
        rhetor.get("budget/summary") { request, context in try await summary(request, context) }
        rhetor.get("budget/model-tiers") { _, _ in
            var tiers: [String: [JSONValue]] = ["free": [], "low": [], "medium": [], "high": []]
            for price in try await engine.catalog.current().prices.values.sorted(by: { ($0.provider, $0.model) < ($1.provider, $1.model) }) {
                let tier = PriceTier.classify(inputPerToken: price.input, outputPerToken: price.output)
                tiers[tier.rawValue, default: []].append(Self.modelCost(price))
            }
            return try JSONResponse.make(.ok, JSONValue.object(tiers.mapValues(JSONValue.array)))
        }
        rhetor.get("cheaper-alternative") { request, context in
            guard let provider = request.query("provider"), let model = request.query("model") else {
                throw APIError.badRequest("provider and model are required", field: request.query("provider") == nil ? "provider" : "model")
            }
            let catalog = try await engine.catalog.current()
            let current = catalog.price(provider: provider, model: model, naming: engine.naming)
            let alternative = current.flatMap {
                RhetorRouting.cheaperAlternatives(than: $0, taskType: request.query("task_type"), among: Self.routable(catalog)).first
            }
            return try JSONResponse.make(.ok, JSONValue.object([
                "current": current.map(Self.modelCost) ?? .null, "alternative": alternative.map(Self.modelCost) ?? .null,
            ]))
        }
        rhetor.post("route") { request, context in try await route(request, context) }
        rhetor.post("check") { request, context in try await check(request, context) }
        rhetor.post("allocate") { request, context in try await allocate(request, context) }
        rhetor.post("record-cost") { request, context in try await recordCost(request, context) }
        rhetor.get("status") { request, context in
            let periods = try request.query("period").map { [try rhetorPeriod($0)] } ?? RhetorCompat.periods
            let (budget, catalog) = try await rhetorBudget(context.logger)
            let body = try await statusBody(budget: budget, catalog: catalog, category: request.query("category"), periods: periods, logger: context.logger)
            return try JSONResponse.make(.ok, JSONValue.object(body))
        }
        rhetorAdmin.post("reset") { request, context in try await reset(request, context) }
        rhetor.get("resets") { _, context in
            let (budget, _) = try await rhetorBudget(context.logger)
            let items = try await resets.list(budgetID: budget.id, logger: context.logger).map(Views.windowReset)
            return try JSONResponse.make(.ok, JSONValue.object(["items": .array(items)]))
        }
    }

    // MARK: the budget

    /// The compatibility budget and the catalog it was found in; created when missing.
    func rhetorBudget(_ logger: Logger) async throws -> (BudgetInfo, LimitCatalog) {
        var catalog = try await engine.catalog.current()
        if let budget = Self.find(budgetName, in: catalog) { return (budget, catalog) }
        _ = try await repository.ensureBudget(named: budgetName, logger: logger)
        engine.catalog.invalidate()
        catalog = try await engine.catalog.current()
        guard let budget = Self.find(budgetName, in: catalog) else { throw APIError.databaseUnavailable("the budget '\(budgetName)' could not be loaded; retry") }
        return (budget, catalog)
    }

    static func find(_ name: String, in catalog: LimitCatalog) -> BudgetInfo? {
        catalog.budgets.values.filter { $0.name.lowercased() == name.lowercased() }.min { $0.id.uuidString < $1.id.uuidString }
    }

    /// Whether a window's limit is one of the compatibility budget's Rhetor-shaped limits.
    static func isRhetorShaped(_ spec: WindowSpec, budget: BudgetInfo) -> Bool {
        spec.budgetID == budget.id && spec.metric == Metric.costUSD.rawValue && RhetorCompat.period(spec.period) != nil
            && spec.scope.component == nil && spec.scope.model == nil && spec.scope.taskType == nil && spec.scope.tier == nil && spec.scope.tag == nil
    }

    /// The window Rhetor reports for a period: the provider's own limit, else the global one.
    static func reported(_ specs: [WindowSpec], period: Period, provider: String?, budget: BudgetInfo) -> WindowSpec? {
        let candidates = specs.filter { isRhetorShaped($0, budget: budget) && $0.period == period.rawValue }
        if let provider = RhetorCompat.providerFilter(provider), let own = candidates.first(where: { $0.scope.provider == provider }) { return own }
        return candidates.first { $0.scope.provider == nil }
    }

    /// `<period>_usage`, `<period>_limit` (0 = none, as Rhetor) and `<period>_enforcement` for each
    /// period: from the reported limit's window counter, or, without a limit, from the ledger.
    func periodFields(_ specs: [WindowSpec], periods: [Period], provider: String?, budget: BudgetInfo, catalog: LimitCatalog,
                      logger: Logger) async throws -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        var unlimited: [(period: Period, window: Window)] = []
        for period in periods {
            let name = period.rawValue
            if let spec = Self.reported(specs, period: period, provider: provider, budget: budget) {
                fields["\(name)_usage"] = .rhetorMoney(Decimal(exactly: spec.spent ?? "0") ?? 0)
                fields["\(name)_limit"] = .rhetorMoney(Decimal(exactly: spec.amount) ?? 0)
                fields["\(name)_enforcement"] = .string(spec.policy)
            } else {
                unlimited.append((period, RhetorCompat.window(of: period, budget: budget, catalog: catalog, at: Date())))
            }
        }
        // Periods without a limit have no counter: their usage comes from the ledger (one scan).
        let sums = try await repository.spend(in: unlimited.map { ($0.window.start!, $0.window.end!) },
                                              provider: RhetorCompat.providerFilter(provider), logger: logger)
        for (entry, spent) in zip(unlimited, sums) {
            fields["\(entry.period.rawValue)_usage"] = .rhetorMoney(spent)
            fields["\(entry.period.rawValue)_limit"] = .rhetorMoney(0)
            fields["\(entry.period.rawValue)_enforcement"] = .null
        }
        return fields
    }

    func statusBody(budget: BudgetInfo, catalog: LimitCatalog, category: String?, periods: [Period], logger: Logger) async throws -> [String: JSONValue] {
        let providerKey = RhetorCompat.providerFilter(category)
        var specs = try await engine.status(query: Scope(provider: providerKey), budgetID: budget.id, logger: logger)
        specs = specs.filter { spec in
            Self.isRhetorShaped(spec, budget: budget) && periods.contains { $0.rawValue == spec.period }
                && (Scope.key(category) != RhetorCompat.allProviders || spec.scope.provider == nil)
        }
        var body = try await periodFields(specs, periods: periods, provider: category, budget: budget, catalog: catalog, logger: logger)
        body["budget"] = .object(["id": .id(budget.id), "name": .string(budget.name), "timezone": .string(budget.timeZone.identifier)])
        body["category"] = .text(category)
        body["limits"] = .array(specs.map(Self.rhetorLimitState))
        return body
    }

    /// One limit's current window in Rhetor's words (numbers for money), with its budget (a call
    /// counts against the limits of every budget, not only Rhetor's).
    static func rhetorLimitState(_ spec: WindowSpec) -> JSONValue {
        let amount = Decimal(exactly: spec.amount) ?? 0
        let spent = Decimal(exactly: spec.spent ?? "0") ?? 0
        let reserved = Decimal(exactly: spec.reserved ?? "0") ?? 0
        let state = LimitState.health(used: spent + reserved, amount: amount, warnAt: Decimal(exactly: spec.warnAt) ?? 1)
        return .object([
            "limit_id": .id(spec.limitID), "version": .integer(Int64(spec.limitVersion)), "period": .string(spec.period),
            "budget": .string(spec.budgetName), "metric": .string(spec.metric), "scope": Views.filter(spec.scope),
            "provider": .string(RhetorCompat.providerName(spec.scope.provider)), "limit_amount": .rhetorMoney(amount),
            "enforcement": .string(spec.policy), "usage": .rhetorMoney(spent), "reserved": .rhetorMoney(reserved),
            "remaining": .rhetorMoney(amount - spent - reserved), "state": .string(state.rawValue),
            "window_start": .instant(spec.windowStart), "window_end": .instant(spec.windowEnd),
        ])
    }

    /// Rhetor's `get_budget_settings()`: the current limits by period.
    func settingsBody(budget: BudgetInfo, logger: Logger) async throws -> JSONValue {
        let current = try await limits.list(budgetID: budget.id, history: false, logger: logger).filter(RhetorCompat.isRhetorShaped)
        var settings: [String: JSONValue] = [:]
        for period in RhetorCompat.periods {
            settings[period.rawValue] = .array(current.filter { $0.period == period }.map { limit in
                .object([
                    "id": .id(limit.id), "version": .integer(Int64(limit.version)), "provider": .string(RhetorCompat.providerName(limit.filter.provider)),
                    "limit_amount": .rhetorMoney(limit.amount), "enforcement": .string(limit.policy.rawValue), "start_date": .instant(limit.validFrom),
                ])
            })
        }
        return .object(settings)
    }

    // MARK: limits and policies

    func setLimit(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let period = try rhetorPeriod(try body.string("period"))
        let amount = try body.money("limit_amount", required: true)!
        let provider = try body.string("provider", maxLength: 200)
        let enforcement = try body.string("enforcement").map { try parseEnum($0.lowercased(), Policy.self, field: "enforcement") }
        let (budget, _) = try await rhetorBudget(context.logger)
        return try await idempotency.respond(operation: "rhetor.limit:\(budget.id)", request: request, hash: body.hash, logger: context.logger) {
            let change = try await repository.setLimit(
                budgetID: budget.id, period: period, provider: RhetorCompat.providerFilter(provider), amount: amount, policy: enforcement,
                defaultPolicy: defaultPolicy, by: request.actor, logger: context.logger)
            engine.catalog.invalidate()
            return (.ok, Self.changeBody(change, period: period, provider: provider))
        }
    }

    func setPolicy(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let period = try rhetorPeriod(try body.string("period"))
        guard let raw = try body.string("policy") ?? body.string("enforcement") else {
            throw APIError.badRequest("policy is required (ignore, warn or enforce)", field: "policy")
        }
        let policy = try parseEnum(raw.lowercased(), Policy.self, field: "policy")
        let provider = try body.string("provider", maxLength: 200)
        let (budget, _) = try await rhetorBudget(context.logger)
        return try await idempotency.respond(operation: "rhetor.policy:\(budget.id)", request: request, hash: body.hash, logger: context.logger) {
            guard let change = try await repository.setPolicy(budgetID: budget.id, period: period, provider: RhetorCompat.providerFilter(provider),
                                                               policy: policy, by: request.actor, logger: context.logger) else {
                // Rhetor stored a policy-only row with limit 0 ("no limit"); a policy without a limit decides nothing.
                throw APIError(.notFound, code: "limit_not_found",
                               message: "there is no \(period.rawValue) limit for provider '\(RhetorCompat.providerName(RhetorCompat.providerFilter(provider)))'; set one with POST budget/limit (its enforcement sets the policy)",
                               field: "provider")
            }
            engine.catalog.invalidate()
            return (.ok, Self.changeBody(change, period: period, provider: provider))
        }
    }

    static func changeBody(_ change: RhetorCompatRepository.LimitChange, period: Period, provider: String?) -> JSONValue {
        .object([
            "success": .bool(true), "period": .string(period.rawValue),
            "provider": .string(RhetorCompat.providerName(RhetorCompat.providerFilter(provider))),
            "limit_amount": .rhetorMoney(change.current?.amount ?? 0),
            "enforcement": change.current.map { .string($0.policy.rawValue) } ?? .null,
            "limit_id": .id(change.current?.id ?? change.closed?.id), "version": change.current.map { .integer(Int64($0.version)) } ?? .null,
            "closed_version": change.closed.map { .integer(Int64($0.version)) } ?? .null,
        ])
    }

    // MARK: usage summary

    func summary(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let period = try rhetorPeriod(request.query("period"), default: .daily)
        let groupBy = try parseEnum(request.query("group_by"), RhetorCompatRepository.GroupBy.self, field: "group_by", default: .provider)
        let provider = request.query("provider")
        let (budget, catalog) = try await rhetorBudget(context.logger)
        let window = RhetorCompat.window(of: period, budget: budget, catalog: catalog, at: Date())
        let groups = try await repository.usageSummary(from: window.start!, to: window.end!, groupBy: groupBy,
                                                       provider: RhetorCompat.providerFilter(provider), logger: context.logger)
        var members: [String: JSONValue] = [:]
        for group in groups {
            // Python's json writes a None key as "null", which is what Rhetor answered for calls without one.
            members[group.key ?? "null"] = .object([
                "cost": .rhetorMoney(group.cost), "input_tokens": .integer(group.inputTokens), "output_tokens": .integer(group.outputTokens),
                "count": .integer(group.count), "unpriced_count": .integer(group.unpriced),
            ])
        }
        let input = groups.reduce(Int64(0)) { $0 &+ $1.inputTokens }
        let output = groups.reduce(Int64(0)) { $0 &+ $1.outputTokens }
        return try JSONResponse.make(.ok, JSONValue.object([
            "period": .string(period.rawValue), "group_by": .string(groupBy.rawValue),
            "window_start": .instant(window.start), "window_end": .instant(window.end),
            "total_cost": .rhetorMoney(groups.reduce(Decimal(0)) { $0 + $1.cost }),
            "total_input_tokens": .integer(input), "total_output_tokens": .integer(output), "total_tokens": .integer(input &+ output),
            "count": .integer(groups.reduce(Int64(0)) { $0 + $1.count }),
            "unpriced_count": .integer(groups.reduce(Int64(0)) { $0 + $1.unpriced }),
            "groups": .object(members),
        ]))
    }

    // MARK: check

    func check(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let provider = try body.string("provider", maxLength: 200)
        let model = try body.string("model", maxLength: 200)
        let component = try body.string("component", maxLength: 200)
        let taskType = try body.string("task_type", maxLength: 200)
        let tokens = try CallTokens(body)
        let (inputTokens, outputTokens) = (tokens.input, tokens.output)
        let (budget, catalog) = try await rhetorBudget(context.logger)
        let scope = Scope(component: component, provider: provider, model: model, taskType: taskType)

        let (result, unpricedUnderEnforce) = try await decide(scope: scope, tokens: tokens, logger: context.logger)
        let price = unpricedUnderEnforce == nil ? result.plan.price : nil
        let estimate = RhetorCompat.costEstimate(inputTokens: inputTokens, outputTokens: outputTokens, price: price)

        var warnings = result.decision.warnings
        if price == nil {
            warnings.append("no price is known for \(provider ?? "(no provider)")/\(model ?? "(no model)"): the cost is unknown, not free")
        }
        warnings += tokens.warnings

        var answer = try await periodFields(result.states, periods: RhetorCompat.periods, provider: provider, budget: budget, catalog: catalog,
                                          logger: context.logger)
        let allowed = unpricedUnderEnforce == nil && result.decision.allowed
        answer["allowed"] = .bool(allowed)
        answer["reason"] = .null
        if let limitID = unpricedUnderEnforce {
            answer["reason"] = .string("Unknown model price: no price is known for \(provider ?? "(no provider)")/\(model ?? "(no model)") and enforce limit \(limitID.lowercasedText) counts dollars")
        } else if let denied = result.decision.deniedBy {
            let limit = denied.applicable.limit
            if denied.applicable.budget.id == budget.id && RhetorCompat.isRhetorShaped(limit) {
                answer["reason"] = .string(RhetorCompat.exceededReason(limit.period))
            } else {
                answer["reason"] = .string("\(RhetorCompat.exceededReason(limit.period)) (budget \(denied.applicable.budget.name), limit \(limit.id.lowercasedText))")
            }
            answer["limit"] = .rhetorMoney(denied.amount)
            answer["usage"] = .rhetorMoney(denied.spent + denied.reserved)
            answer["policy"] = .string(limit.policy.rawValue)
            answer["period"] = .string(limit.period.rawValue)
        }
        answer["warnings"] = .array(warnings.map(JSONValue.string))
        answer["estimated_cost"] = .rhetorMoney(estimate.totalCost)
        answer["pricing_status"] = .string(price == nil ? PricingStatus.unpriced.rawValue : PricingStatus.priced.rawValue)
        answer["cost_estimate"] = .object([
            "input_tokens": .integer(inputTokens), "output_tokens": .integer(outputTokens),
            "input_cost": .rhetorMoney(estimate.inputCost), "output_cost": .rhetorMoney(estimate.outputCost),
            "total_cost": .rhetorMoney(estimate.totalCost), "tokens_estimated": .bool(tokens.inputEstimated),
            "output_tokens_assumed": .bool(tokens.outputAssumed),
        ])
        answer["limits"] = .array(result.states.map(Self.rhetorLimitState))
        return try JSONResponse.make(.ok, JSONValue.object(answer))
    }

    /// A call's tokens as check and route take them: `input_tokens`, or Rhetor's approximation of
    /// `input_text`; `output_tokens`, or Rhetor's assumed reply.
    struct CallTokens {
        var input: Int64
        var output: Int64
        var inputEstimated: Bool
        var outputAssumed: Bool

        init(_ body: RhetorBody) throws {
            let text = try body.text("input_text")
            let givenInput = try body.tokens("input_tokens")
            guard givenInput != nil || text != nil else {
                throw APIError.badRequest("input_text or input_tokens is required", field: "input_tokens")
            }
            let givenOutput = try body.tokens("output_tokens")
            input = givenInput ?? RhetorTokenEstimate.tokens(in: text ?? "")
            output = givenOutput ?? RhetorTokenEstimate.assumedOutputTokens
            inputEstimated = givenInput == nil
            outputAssumed = givenOutput == nil
            guard input.addingReportingOverflow(output).overflow == false else {
                throw APIError.badRequest("the token counts add up to more than 2^63-1", field: "input_tokens")
            }
        }

        var warnings: [String] {
            inputEstimated ? ["input tokens estimated from the text (Rhetor's approximation: words + characters/4)"] : []
        }
    }

    /// The engine's check of a call, and the enforce dollar limit that refuses it for want of a
    /// price (nil: none). Such a limit cannot admit a call of unknown cost; the windows are still
    /// read (with no dollars asked of them) to report usage and limits.
    func decide(scope: Scope, tokens: CallTokens, logger: Logger) async throws -> (result: BudgetEngine.CheckResult, unpricedUnderEnforce: UUID?) {
        do {
            return (try await engine.check(scope: scope, estimate: Estimate(inputTokens: tokens.input, maxOutputTokens: tokens.output),
                                           priority: .normal, logger: logger), nil)
        } catch PlanningError.priceUnknown(_, _, let limitID) {
            return (try await engine.check(scope: scope, estimate: Estimate(inputTokens: tokens.input, maxOutputTokens: tokens.output, costUSD: 0),
                                           priority: .normal, logger: logger), limitID)
        }
    }

    /// The prices routing may choose from: not regional variants (`bedrock[us]`), whose provider
    /// name prices a deployment and is not one a caller sends.
    static func routable(_ catalog: LimitCatalog) -> [Price] {
        catalog.prices.values.filter { CanonicalModelKey(storedProvider: $0.provider, model: $0.model).region == nil }
    }

    static func modelCost(_ price: Price) -> JSONValue {
        .object(["provider": .string(price.provider), "model": .string(price.model),
                 "cost_per_1k_tokens": .rhetorMoney(RhetorRouting.perToken(price) * 1000)])
    }

    // MARK: route

    /// `route_with_budget_awareness`: the default model if the budget admits it, else the first
    /// cheaper alternative, else a free model, else the cheapest, each only if the budget admits
    /// it (the engine's check, every matching limit); else the default with a warning.
    func route(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let defaultProvider = try body.string("default_provider", required: true, maxLength: 200)!
        let defaultModel = try body.string("default_model", required: true, maxLength: 200)!
        let component = try body.string("component", maxLength: 200)
        let taskType = try body.string("task_type", maxLength: 200)
        let tokens = try CallTokens(body)
        let catalog = try await engine.catalog.current()
        let prices = Self.routable(catalog)

        var choices: [(step: RhetorRouting.Step, provider: String, model: String)] = [(.default, defaultProvider, defaultModel)]
        if let current = catalog.price(provider: defaultProvider, model: defaultModel, naming: engine.naming),
           let cheaper = RhetorRouting.cheaperAlternatives(than: current, taskType: taskType, among: prices).first {
            choices.append((.cheaper, cheaper.provider, cheaper.model))
        }
        if let free = RhetorRouting.freeModels(among: prices).first { choices.append((.free, free.provider, free.model)) }
        if let cheapest = RhetorRouting.cheapest(among: prices) { choices.append((.cheapest, cheapest.provider, cheapest.model)) }

        var tried: [JSONValue] = []
        var defaultCost: Decimal?
        var seen = Set<String>()
        for choice in choices where seen.insert("\(choice.provider)\u{0}\(choice.model)").inserted {
            let scope = Scope(component: component, provider: choice.provider, model: choice.model, taskType: taskType)
            let (result, unpriced) = try await decide(scope: scope, tokens: tokens, logger: context.logger)
            let price = unpriced == nil ? result.plan.price : nil
            let cost = RhetorCompat.costEstimate(inputTokens: tokens.input, outputTokens: tokens.output, price: price).totalCost
            let allowed = unpriced == nil && result.decision.allowed
            if choice.step == .default { defaultCost = cost }
            var reason: String?
            if unpriced != nil {
                reason = "Unknown model price"
            } else if let denied = result.decision.deniedBy {
                reason = RhetorCompat.exceededReason(denied.applicable.limit.period)
            }
            tried.append(.object(["provider": .string(choice.provider), "model": .string(choice.model), "route": .string(choice.step.rawValue),
                                  "allowed": .bool(allowed), "reason": .text(reason), "estimated_cost": .rhetorMoney(cost)]))
            guard allowed else { continue }
            var warnings = result.decision.warnings + tokens.warnings
            if choice.step != .default {
                warnings.append("\(defaultProvider)/\(defaultModel) does not fit the budget; using \(choice.step.rawValue) model \(choice.provider)/\(choice.model)")
            }
            return try JSONResponse.make(.ok, JSONValue.object([
                "provider": .string(choice.provider), "model": .string(choice.model), "route": .string(choice.step.rawValue),
                "allowed": .bool(true), "estimated_cost": .rhetorMoney(cost), "warnings": .array(warnings.map(JSONValue.string)),
                "tried": .array(tried),
            ]))
        }
        let warnings = tokens.warnings + ["no model fits the budget; \(defaultProvider)/\(defaultModel) is returned anyway (Rhetor's emergency fallback): a call with it will be refused by enforce limits"]
        return try JSONResponse.make(.ok, JSONValue.object([
            "provider": .string(defaultProvider), "model": .string(defaultModel), "route": .string(RhetorRouting.Step.emergency.rawValue),
            "allowed": .bool(false), "estimated_cost": .rhetorMoney(defaultCost),
            "warnings": .array(warnings.map(JSONValue.string)), "tried": .array(tried),
        ]))
    }

    // MARK: allocate / record-cost

    func allocate(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let requestID = try body.string("request_id", required: true, maxLength: 200)!
        let cost = try body.money("cost_estimate", required: true)!
        let category = try body.string("category", maxLength: 200)
        let scope = Scope(component: try body.string("component", maxLength: 200), provider: try body.string("provider", maxLength: 200),
                          model: try body.string("model", maxLength: 200), taskType: try category ?? body.string("task_type", maxLength: 200))
        let ttl = try body.integer("ttl_seconds", in: 1...86_400, default: 600)
        let allocation = BudgetEngine.AllocationRequest(scope: scope, estimate: Estimate(costUSD: cost), ttlSeconds: ttl, priority: .normal,
                                                        requestID: requestID, metadata: try body.metadata())
        // The request id identifies the request: a retry with the same body gets the first answer.
        let key = try request.idempotencyKey() ?? "rhetor:\(requestID)"
        let outcome = try await planned {
            try await engine.allocate(allocation, idempotencyKey: key, requestHash: body.hash, logger: context.logger)
        }
        switch outcome {
        case .granted(let row, let limits, let replayed):
            var granted: [String: JSONValue] = [:]
            if case .object(let native) = AllocationsController.granted(row, limits) { granted = native }
            return try JSONResponse.make(.created, JSONValue.object([
                "allowed": .bool(true), "allocation_id": .id(row.id), "request_id": .string(requestID),
                "reserved_cost": .rhetorMoney(row.reservedCostUSD.flatMap { Decimal(exactly: $0) }), "expires_at": .instant(row.expiresAt),
                "warnings": granted["warnings"] ?? .array([]), "limits": .array(limits.map(Self.rhetorLimitState)),
            ]), headers: replayHeader(replayed))
        case .denied(_, let deniedBy, _, let replayed):
            var error = AllocationsController.denial(deniedBy, replayed: replayed)
            error.details["allowed"] = .bool(false)
            error.details["reason"] = .string(RhetorCompat.period(deniedBy.period).map(RhetorCompat.exceededReason) ?? "Budget limit exceeded")
            throw error
        case .idempotencyConflict:
            throw APIError.conflict("request_id '\(requestID)' was already allocated with a different request", code: "idempotency_conflict")
        case .stale:
            throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
        }
    }

    func recordCost(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let requestID = try body.string("request_id", required: true, maxLength: 200)!
        let cost = try body.money("actual_cost", required: true)!
        let usage = TokenUsage(input: try body.tokens("input_tokens") ?? 0, output: try body.tokens("output_tokens") ?? 0)
        guard usage.total != nil else { throw APIError.badRequest("the token counts add up to more than 2^63-1", field: "input_tokens") }
        let provider = try body.string("provider", maxLength: 200)
        let model = try body.string("model", maxLength: 200)
        let component = try body.string("component", maxLength: 200)
        let taskType = try body.string("category", maxLength: 200) ?? body.string("task_type", maxLength: 200)
        let metadata = try body.metadata()

        // An allocation made for the request is committed; a request Budget never allocated (or
        // whose allocation was refused or released) is recorded directly: the money was spent.
        if let found = try await repository.allocation(requestID: requestID, logger: context.logger), ["active", "expired", "committed"].contains(found.status) {
            let input = BudgetEngine.CommitInput(usage: usage, provider: provider, model: model, costUSD: cost, occurredAt: nil, requestID: requestID, metadata: metadata)
            switch try await engine.commit(allocationID: found.id, input, idempotencyKey: nil, requestHash: body.hash, logger: context.logger) {
            case .committed(let record, let expired, let replayed):
                return try JSONResponse.make(.ok, Self.recorded(record, requestID: requestID, allocationID: found.id, expired: expired),
                                             headers: replayHeader(replayed))
            case .conflict(let message):
                throw APIError.conflict("the cost of request_id '\(requestID)' was already recorded with different numbers (\(message))", code: "allocation_conflict")
            case .idempotencyConflict:
                throw APIError.conflict("the cost of request_id '\(requestID)' was already recorded with different numbers", code: "idempotency_conflict")
            case .stale:
                throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
            case .notFound:
                break   // cannot happen (allocations are never deleted); record directly below
            }
        }
        let input = BudgetEngine.UsageInput(occurredAt: nil, scope: Scope(component: component, provider: provider, model: model, taskType: taskType),
                                            usage: usage, costUSD: cost, requestID: requestID, metadata: metadata, origin: "rhetor_compat")
        switch try await engine.record([input], idempotencyKey: "rhetor-record-cost:\(requestID)", requestHash: body.hash, logger: context.logger) {
        case .recorded(let records, let replayed):
            return try JSONResponse.make(.created, Self.recorded(records[0], requestID: requestID, allocationID: nil, expired: false),
                                         headers: replayHeader(replayed))
        case .idempotencyConflict:
            throw APIError.conflict("the cost of request_id '\(requestID)' was already recorded with different numbers", code: "idempotency_conflict")
        case .stale:
            throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
        }
    }

    static func recorded(_ record: LedgerRecord, requestID: String, allocationID: UUID?, expired: Bool) -> JSONValue {
        .object([
            "recorded": .bool(true), "request_id": .string(requestID), "usage_id": .id(record.id), "allocation_id": .id(allocationID),
            "cost": .rhetorMoney(record.costUSD.flatMap { Decimal(exactly: $0) }), "pricing_status": .string(record.pricingStatus.rawValue),
            "input_tokens": .integer(record.usage.input), "output_tokens": .integer(record.usage.output),
            "reservation_expired": .bool(expired),
        ])
    }

    // MARK: reset

    func reset(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let body = try await RhetorBody.read(request, context: context)
        let period = try rhetorPeriod(try body.string("period"))
        let reason = try body.string("reason", maxLength: 500)
        let (budget, _) = try await rhetorBudget(context.logger)
        return try await idempotency.respond(operation: "rhetor.reset:\(budget.id)", request: request, hash: body.hash, logger: context.logger) {
            let reset = try await resets.reset(budgetID: budget.id, period: period, limitID: nil, by: request.actor, reason: reason, logger: context.logger)
            engine.catalog.invalidate()
            guard case .object(var body) = Views.windowReset(reset) else { return (.created, Views.windowReset(reset)) }
            body["reset"] = .bool(true)
            body["budget"] = .string(budget.name)
            return (.created, .object(body))
        }
    }
}
