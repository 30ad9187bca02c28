import BudgetCore
import Foundation
import Testing

private func d(_ text: String) -> Decimal { Decimal(exactly: text)! }

@Suite("Alert rules: effective thresholds, validation, severity, webhook signatures and retry schedule")
struct AlertRulesTests {
    @Test func effectiveThresholdsIncludeWarnAtOnceAndAreSorted() {
        #expect(AlertThresholds.effective(warnAt: d("0.8"), thresholds: nil) == [d("0.8")])
        #expect(AlertThresholds.effective(warnAt: d("0.8"), thresholds: [d("1.0"), d("0.5"), d("0.80")]) == [d("0.5"), d("0.8"), d("1")])
        #expect(AlertThresholds.effective(warnAt: d("0.9"), thresholds: [d("0.5")]) == [d("0.5"), d("0.9")])
    }

    @Test func validationRefusesOutOfRangeEmptyAndTooMany() throws {
        #expect(try AlertThresholds.validated([d("0.95"), d("0.5"), d("0.5"), d("1.5")]) == [d("0.5"), d("0.95"), d("1.5")])
        #expect(throws: AlertThresholds.Problem.outOfRange(d("0"))) { try AlertThresholds.validated([d("0")]) }
        #expect(throws: AlertThresholds.Problem.outOfRange(d("1.51"))) { try AlertThresholds.validated([d("0.5"), d("1.51")]) }
        #expect(throws: AlertThresholds.Problem.outOfRange(d("-0.1"))) { try AlertThresholds.validated([d("-0.1")]) }
        #expect(throws: AlertThresholds.Problem.empty) { try AlertThresholds.validated([]) }
        let many = (1...21).map { Decimal($0) / 100 }
        #expect(throws: AlertThresholds.Problem.tooMany(21)) { try AlertThresholds.validated(many) }
    }

    @Test func reachedComparesExactly() {
        let thresholds = [d("0.5"), d("0.8"), d("1")]
        #expect(AlertThresholds.reached(thresholds, used: d("4.99999999999999999999"), amount: d("10")) == [])
        #expect(AlertThresholds.reached(thresholds, used: d("5"), amount: d("10")) == [d("0.5")])
        #expect(AlertThresholds.reached(thresholds, used: d("10"), amount: d("10")) == thresholds)
        #expect(AlertThresholds.reached(thresholds, used: d("10"), amount: 0) == [], "a zero amount has no fractions to reach")
    }

    @Test func severity() {
        #expect(AlertSeverity.of(.thresholdCrossed, threshold: d("0.8")) == .warning)
        #expect(AlertSeverity.of(.thresholdCrossed, threshold: d("1")) == .critical)
        #expect(AlertSeverity.of(.thresholdCrossed, threshold: d("1.2")) == .critical)
        #expect(AlertSeverity.of(.allocationDenied, threshold: nil) == .critical)
        #expect(AlertSeverity.of(.criticalBypass, threshold: nil) == .critical)
        #expect(AlertSeverity.of(.unpricedUsage, threshold: nil) == .warning)
        #expect(AlertSeverity.of(.priceChanged, threshold: nil) == .info)
        #expect(AlertType.priceSyncFailed.isGlobal && !AlertType.thresholdCrossed.isGlobal)
    }

    @Test func limitsExposeTheirEffectiveThresholds() {
        let limit = Limit(id: UUID(), version: 1, budgetID: UUID(), filter: ScopeFilter(), period: .daily, metric: .costUSD, amount: 10,
                          policy: .warn, warnAt: d("0.8"), thresholds: [d("0.95"), d("0.5")], validFrom: Date())
        #expect(limit.effectiveThresholds == [d("0.5"), d("0.8"), d("0.95")])
    }

    @Test func signatureHeaderIsLowerCaseHexAndParsesBack() throws {
        let mac: [UInt8] = [0x00, 0x0f, 0xa0, 0xff] + Array(repeating: 0x11, count: 28)
        let header = WebhookSignature.header(mac: mac)
        #expect(header == "sha256=000fa0ff" + String(repeating: "11", count: 28))
        #expect(WebhookSignature.mac(fromHeader: header) == mac)
        #expect(WebhookSignature.mac(fromHeader: header.uppercased()) == nil, "the prefix is lower case")
        #expect(WebhookSignature.mac(fromHeader: "sha256=zz" + String(repeating: "11", count: 31)) == nil)
        #expect(WebhookSignature.mac(fromHeader: "sha256=abcd") == nil)
        #expect(WebhookSignature.constantTimeEquals(mac, mac))
        #expect(!WebhookSignature.constantTimeEquals(mac, Array(mac.dropLast()) + [0x12]))
    }

    @Test func retryPolicyBacksOffThenGivesUp() {
        let policy = WebhookRetryPolicy.standard
        #expect(policy.maximumAttempts == 6)
        #expect(policy.delay(afterFailedAttempt: 1) == .seconds(5))
        #expect(policy.delay(afterFailedAttempt: 2) == .seconds(30))
        #expect(policy.delay(afterFailedAttempt: 5) == .seconds(3600))
        #expect(policy.delay(afterFailedAttempt: 6) == nil)
        #expect(policy.delay(afterFailedAttempt: 0) == nil)
    }

    @Test func filterMatches() {
        let budget = UUID()
        let alert = Alert(id: 7, type: .thresholdCrossed, limitID: UUID(), budgetID: budget, windowKey: "2026-11-21", threshold: d("0.5"),
                          occurrences: 1, firstAt: Date(), lastAt: Date(), acknowledgedAt: nil, acknowledgedBy: nil, details: .object([:]))
        #expect(AlertFilter().matches(alert))
        #expect(AlertFilter(types: [.thresholdCrossed], budgetID: budget, acknowledged: false).matches(alert))
        #expect(!AlertFilter(types: [.priceChanged]).matches(alert))
        #expect(!AlertFilter(budgetID: UUID()).matches(alert))
        #expect(!AlertFilter(acknowledged: true).matches(alert))
    }
}
