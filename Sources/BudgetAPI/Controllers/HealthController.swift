// GET /health (the process is alive) and GET /ready (the database answers).
import BudgetCore
import BudgetStore
import Hummingbird
import Logging

struct HealthController {
    typealias Context = BudgetRequestContext
    let database: any DatabaseHealth

    struct Health: ResponseEncodable {
        var status: String
        var version: String
    }

    struct Readiness: ResponseEncodable {
        var status: String
        var database: String
    }

    func addRoutes(to router: Router<Context>) {
        router.get("/health") { _, _ in
            Health(status: "ok", version: BudgetVersion.current)
        }
        router.get("/ready") { _, context in
            do {
                try await database.ping(timeout: .seconds(2), logger: context.logger)
                return Readiness(status: "ready", database: "ok")
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(String(reflecting: error))"])
                throw APIError.databaseUnavailable("the database does not answer: \(error)")
            }
        }
    }
}
