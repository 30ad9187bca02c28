// Builds the HTTP application; `budget serve` and the tests call the same builder.
import BudgetCore
import BudgetPricing
import BudgetStore
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// How often expired reservations are released.
    public var sweepInterval: Duration
    /// The longest a request may take before it is answered 503 (the database is away or stuck).
    public var requestTimeout: Duration
    /// Alert streaming and webhook delivery.
    public var alerts: AlertConfiguration
    /// Months of raw ledger partitions kept (nil: all).
    public var rawRetentionMonths: Int?
    /// The keys /api/v1 accepts (nil: the API is open to every caller).
    public var apiKeys: APIKeys?

    public init(host: String = "127.0.0.1", port: Int = 8013, sweepInterval: Duration = .seconds(5), requestTimeout: Duration = .seconds(15),
                alerts: AlertConfiguration = AlertConfiguration(), rawRetentionMonths: Int? = nil, apiKeys: APIKeys? = nil) {
        self.rawRetentionMonths = rawRetentionMonths
        self.apiKeys = apiKeys
        self.host = host
        self.port = port
        self.sweepInterval = sweepInterval
        self.requestTimeout = requestTimeout
        self.alerts = alerts
    }
}

/// Builds the application around a `PostgresClient`. The client, the reservation sweeper and the
/// partition keeper are the application's services, so they run (and stop) with the server.
public func buildApplication(
    configuration: APIConfiguration,
    client: PostgresClient,
    priceSync: PriceSyncJob? = nil,
    batchExecutor: (any TaskExecutor)? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    let engine = BudgetEngine(client: client, logger: logger, naming: .canonicalNames, batchExecutor: batchExecutor)
    let alertLogger = Logger(label: "BudgetAlerts")
    let alertHub = AlertHub(repository: AlertRepository(client: client), logger: alertLogger)
    let deadlines = RequestDeadlines(timeout: configuration.requestTimeout)
    let hotPath = HotPathResponder(allocations: AllocationsController(engine: engine), usage: UsageController(engine: engine),
                                   keys: configuration.apiKeys, deadlines: deadlines,
                                   maxBodySize: BudgetRequestContext.maxBodySize, serverName: serverName, logger: logger)
    let router = buildRouter(client: client, engine: engine, priceSync: priceSync, deadlines: deadlines,
                             alertHub: configuration.alerts.streamAlerts ? alertHub : nil,
                             apiKeys: configuration.apiKeys, webhookSecrets: configuration.alerts.secrets)
    var services: [any Service] = [
        client, deadlines, MaintenanceService(engine: engine, interval: configuration.sweepInterval, logger: Logger(label: "BudgetStore"),
                                   rawRetentionMonths: configuration.rawRetentionMonths),
    ]
    if configuration.alerts.streamAlerts {
        services.append(AlertStreamService(client: client, hub: alertHub, heartbeatInterval: configuration.alerts.heartbeatInterval,
                                           logger: alertLogger))
    }
    if configuration.alerts.deliverWebhooks {
        services.append(WebhookDeliveryService(webhooks: WebhookRepository(client: client), alerts: AlertRepository(client: client),
                                               configuration: configuration.alerts, logger: alertLogger))
    }
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [HotPathHandler(responder: hotPath)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
        services: services,
        logger: logger
    )
}

/// The `Server` header of every answer.
let serverName = "Budget"

func buildRouter(client: PostgresClient, engine: BudgetEngine, priceSync: PriceSyncJob?, deadlines: RequestDeadlines, alertHub: AlertHub?,
                 apiKeys: APIKeys?, webhookSecrets: WebhookSecrets) -> Router<BudgetRequestContext> {
    let router = Router(context: BudgetRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: DeadlineMiddleware(deadlines: deadlines))
    HealthController(database: PostgresDatabaseHealth(client: client)).addRoutes(to: router)
    let routes = APIRoutes(api: router.group("api/v1"), keys: apiKeys)
    let api = routes.api
    let idempotency = IdempotentResponses(repository: IdempotencyRepository(client: client))
    BudgetsController(repository: BudgetRepository(client: client), catalog: engine.catalog, idempotency: idempotency).addRoutes(to: routes)
    LimitsController(repository: LimitRepository(client: client), catalog: engine.catalog, idempotency: idempotency).addRoutes(to: routes)
    WindowResetsController(resets: WindowResetRepository(client: client), budgets: BudgetRepository(client: client), limits: LimitRepository(client: client),
                           catalog: engine.catalog, idempotency: idempotency).addRoutes(to: routes)
    AllocationsController(engine: engine).addRoutes(to: api)
    UsageController(engine: engine).addRoutes(to: api)
    PricesController(repository: PriceRepository(client: client), catalog: engine.catalog, idempotency: idempotency, sync: priceSync).addRoutes(to: routes)
    RhetorCompatController(engine: engine, repository: RhetorCompatRepository(client: client), resets: WindowResetRepository(client: client), limits: LimitRepository(client: client), idempotency: idempotency).addRoutes(to: routes)
    ApolloCompatController(engine: engine, repository: ApolloCompatRepository(client: client), idempotency: idempotency).addRoutes(to: routes)
    AlertsController(repository: AlertRepository(client: client), hub: alertHub).addRoutes(to: api)
    WebhooksController(repository: WebhookRepository(client: client), idempotency: idempotency, secrets: webhookSecrets).addRoutes(to: routes)
    ReportsController(repository: ReportRepository(client: client, statementTimeout: deadlines.timeout)).addRoutes(to: api)
    return router
}

extension PriceNaming {
    /// Callers' names through the price sources' normaliser; a regional variant (Bedrock's `us.`
    /// profiles, Azure's data zones) finds its own price (`bedrock[us]`), never the ordinary one.
    public static var canonicalNames: PriceNaming {
        let normaliser = ModelNormaliser()
        return PriceNaming { provider, model in
            guard let canonical = try? normaliser.canonical(provider: provider, model: model) else { return nil }
            return PriceKey(provider: canonical.key.storedProvider, model: canonical.key.model)
        }
    }
}
