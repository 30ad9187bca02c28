// How alerts, webhooks and webhook deliveries look on the wire.
import BudgetCore
import BudgetStore
import Foundation

enum AlertViews {
    static func alert(_ alert: Alert) -> JSONValue {
        .object([
            "id": .string(String(alert.id)), "type": .string(alert.type.rawValue), "severity": .string(alert.severity.rawValue),
            "limit_id": .id(alert.limitID), "budget_id": .id(alert.budgetID), "window_key": .text(alert.windowKey),
            "threshold": .money(alert.threshold), "occurrences": .integer(alert.occurrences),
            "first_at": .instant(alert.firstAt), "last_at": .instant(alert.lastAt),
            "acknowledged_at": .instant(alert.acknowledgedAt), "acknowledged_by": .text(alert.acknowledgedBy),
            "details": alert.details,
        ])
    }

    /// The secret is never shown again after it was set.
    /// `url`: the webhook's URL as opened (nil: it is sealed and this instance cannot open it).
    static func webhook(_ webhook: Webhook, url: String?) -> JSONValue {
        .object([
            "id": .id(webhook.id), "budget_id": .id(webhook.budgetID), "url": .text(url), "url_sealed": .bool(url == nil),
            "types": webhook.types.map { .array($0.map { .string($0.rawValue) }) } ?? .null,
            "created_at": .instant(webhook.createdAt), "created_by": .text(webhook.createdBy),
        ])
    }

    static func delivery(_ delivery: WebhookDelivery) -> JSONValue {
        .object([
            "id": .string(String(delivery.id)), "webhook_id": .id(delivery.webhookID), "alert_id": .string(String(delivery.alertID)),
            "status": .string(delivery.status.rawValue), "attempts": .integer(Int64(delivery.attempts)),
            "next_attempt_at": .instant(delivery.status == .pending ? delivery.nextAttemptAt : nil),
            "last_status_code": delivery.lastStatusCode.map { .integer(Int64($0)) } ?? .null, "last_error": .text(delivery.lastError),
            "delivered_at": .instant(delivery.deliveredAt), "created_at": .instant(delivery.createdAt),
            "log": .array(delivery.log.map { attempt in
                .object([
                    "attempt": .integer(Int64(attempt.attempt)), "at": .instant(attempt.attemptedAt),
                    "status_code": attempt.statusCode.map { .integer(Int64($0)) } ?? .null, "error": .text(attempt.error),
                    "duration_ms": attempt.durationMilliseconds.map { .integer(Int64($0)) } ?? .null,
                ])
            }),
        ])
    }
}
