// Builds the HTTP application; `budget serve` and the tests call the same builder.
import BudgetStore
import Hummingbird
import Logging
import PostgresNIO

public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8013) {
        self.host = host
        self.port = port
    }
}

/// Builds the application around a running-or-to-be-run `PostgresClient`. The client is one of
/// the application's services, so it runs (and shuts down) with the server.
public func buildApplication(
    configuration: APIConfiguration,
    client: PostgresClient,
    logger: Logger
) -> some ApplicationProtocol {
    let database = PostgresDatabaseHealth(client: client)
    let router = buildRouter(database: database)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Budget"),
        services: [client],
        logger: logger
    )
}

func buildRouter(database: any DatabaseHealth) -> Router<BudgetRequestContext> {
    let router = Router(context: BudgetRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    HealthController(database: database).addRoutes(to: router)
    return router
}
