// Delivers queued alerts to webhooks: claims one due delivery at a time (FOR UPDATE SKIP LOCKED,
// so instances never send the same attempt twice), POSTs the signed JSON, and records the
// attempt: delivered on a 2xx, otherwise retried with backoff until the policy gives up.
import AsyncHTTPClient
import BudgetCore
import BudgetStore
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// How alerts are streamed and delivered.
public struct AlertConfiguration: Sendable {
    /// Between keep-alive comments on `GET /api/v1/alerts/stream`.
    public var heartbeatInterval: Duration
    /// How often the delivery worker looks for due webhook deliveries.
    public var webhookPollInterval: Duration
    public var webhookRetry: WebhookRetryPolicy
    /// The longest one POST to a webhook may take.
    public var webhookTimeout: Duration
    /// Whether this instance runs the webhook delivery worker.
    public var deliverWebhooks: Bool
    /// Whether this instance streams alerts (`GET /api/v1/alerts/stream`), which holds one
    /// database connection listening for them.
    public var streamAlerts: Bool
    /// How webhook secrets are kept at rest (BUDGET_SECRET_KEY).
    public var secrets: WebhookSecrets

    public init(heartbeatInterval: Duration = .seconds(15), webhookPollInterval: Duration = .seconds(1),
                webhookRetry: WebhookRetryPolicy = .standard, webhookTimeout: Duration = .seconds(10), deliverWebhooks: Bool = true,
                streamAlerts: Bool = true, secrets: WebhookSecrets = WebhookSecrets(passphrase: nil)) {
        self.heartbeatInterval = heartbeatInterval
        self.webhookPollInterval = webhookPollInterval
        self.webhookRetry = webhookRetry
        self.webhookTimeout = webhookTimeout
        self.deliverWebhooks = deliverWebhooks
        self.streamAlerts = streamAlerts
        self.secrets = secrets
    }
}

enum WebhookSigner {
    /// `sha256=` + hex HMAC-SHA256 of the exact body bytes, keyed with the secret's UTF-8 bytes.
    static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return WebhookSignature.header(mac: Array(mac))
    }
}

struct WebhookDeliveryService: Service {
    let webhooks: WebhookRepository
    let alerts: AlertRepository
    let configuration: AlertConfiguration
    let logger: Logger

    func run() async throws {
        let httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        await cancelWhenGracefulShutdown {
            await sealStoredSecrets()
            await loop(httpClient)
        }
        do {
            try await httpClient.shutdown()
        } catch {
            logger.warning("could not shut the webhook HTTP client down", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Seals with the current BUDGET_SECRET_KEY the URLs and secrets stored as given before it was
    /// set, and those sealed with a key of BUDGET_SECRET_KEY_PREVIOUS (once per start; a failure
    /// is logged and the next start tries again). A value that opens with no key this instance has
    /// is left as it is, and said so.
    private func sealStoredSecrets() async {
        let secrets = configuration.secrets
        guard secrets.sealsSecrets else { return }
        do {
            var count = 0
            for (webhookID, stored) in try await webhooks.storedValues(logger: logger) {
                do {
                    let url = try secrets.resealed(stored.url, what: "URL")
                    let secret = try secrets.resealed(stored.secret, what: "secret")
                    guard url != nil || secret != nil else { continue }
                    let new = WebhookRepository.StoredValues(url: url ?? stored.url, secret: secret ?? stored.secret)
                    if try await webhooks.replaceStored(webhookID, old: stored, new: new, logger: logger) { count += 1 }
                } catch let error as WebhookSecretError {
                    logger.error("could not seal a webhook's values with the current key", metadata: [
                        "webhook_id": "\(webhookID)", "error": "\(error.message)",
                    ])
                }
            }
            if count > 0 { logger.info("sealed webhook URLs and secrets with the current key", metadata: ["webhooks": "\(count)"]) }
        } catch {
            if Task.isCancelled { return }
            logger.error("could not seal the stored webhook URLs and secrets", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func loop(_ httpClient: HTTPClient) async {
        while !Task.isCancelled {
            do {
                // Drain what is due, then wait.
                var sent = 0
                while sent < 100, !Task.isCancelled,
                      let delivery = try await webhooks.claimDue(lease: configuration.webhookTimeout * 3, logger: logger) {
                    await attempt(delivery, httpClient: httpClient)
                    sent += 1
                }
            } catch is CancellationError {
                return   // shutdown
            } catch {
                if Task.isCancelled { return }
                logger.warning("could not claim webhook deliveries", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: configuration.webhookPollInterval)
        }
    }

    private func attempt(_ delivery: ClaimedDelivery, httpClient: HTTPClient) async {
        let clock = ContinuousClock()
        let start = clock.now
        var statusCode: Int?
        var failure: String?
        do {
            guard let alert = try await alerts.get(delivery.alertID, logger: logger) else {
                throw WebhookDeliveryError(message: "alert \(delivery.alertID) no longer exists")
            }
            let body = try Self.body(alert: alert, delivery: delivery)
            var request = HTTPClientRequest(url: try configuration.secrets.url(from: delivery.url))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Budget-Webhook/1")
            let secret = try configuration.secrets.secret(from: delivery.secret)
            request.headers.add(name: WebhookSignature.headerName, value: WebhookSigner.signature(body: body, secret: secret))
            request.headers.add(name: "X-Budget-Alert-Id", value: String(alert.id))
            request.headers.add(name: "X-Budget-Delivery-Id", value: String(delivery.id))
            request.headers.add(name: "X-Budget-Attempt", value: String(delivery.attempt))
            request.body = .bytes(ByteBuffer(bytes: body))
            let timeout = TimeAmount.nanoseconds(Int64(configuration.webhookTimeout.components.seconds) * 1_000_000_000
                                                 + configuration.webhookTimeout.components.attoseconds / 1_000_000_000)
            let response = try await httpClient.execute(request, timeout: timeout)
            statusCode = Int(response.status.code)
            // The receiver's answer body is read (up to 64 KiB) only to free the connection.
            _ = try await response.body.collect(upTo: 64 * 1024)
            if !(200..<300).contains(response.status.code) { failure = "HTTP \(response.status.code)" }
        } catch {
            failure = String(describing: error)
        }
        let delivered = failure == nil
        let retry = delivered ? nil : configuration.webhookRetry.delay(afterFailedAttempt: delivery.attempt)
        if !delivered {
            logger.warning("webhook delivery failed", metadata: [
                "delivery_id": "\(delivery.id)", "webhook_id": "\(delivery.webhookID)", "attempt": "\(delivery.attempt)",
                "error": "\(failure ?? "")", "retry_in": "\(retry.map { "\($0)" } ?? "never: given up")",
            ])
        }
        do {
            try await webhooks.finishAttempt(delivery, statusCode: statusCode, error: failure, duration: clock.now - start,
                                             delivered: delivered, retryAfter: retry, logger: logger)
        } catch {
            // The lease runs out and the attempt is made again: at least once, never lost.
            logger.error("could not record a webhook attempt", metadata: ["delivery_id": "\(delivery.id)", "error": "\(String(reflecting: error))"])
        }
    }

    /// `{"delivery_id", "webhook_id", "attempt", "alert": {…}}` — the alert as the API shows it.
    static func body(alert: Alert, delivery: ClaimedDelivery) throws -> [UInt8] {
        let payload = JSONValue.object([
            "delivery_id": .string(String(delivery.id)), "webhook_id": .id(delivery.webhookID),
            "attempt": .integer(Int64(delivery.attempt)), "alert": AlertViews.alert(alert),
        ])
        return Array(try BudgetJSON.encoder.encode(payload))
    }
}

struct WebhookDeliveryError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
