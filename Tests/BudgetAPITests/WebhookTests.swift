import BudgetAPI
import BudgetCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

/// What the receiving server saw.
actor ReceivedHooks {
    struct Hook: Sendable {
        var path: String
        var signature: String?
        var alertID: String?
        var body: [UInt8]
    }

    var hooks: [Hook] = []
    func append(_ hook: Hook) -> Int {
        hooks.append(hook)
        return hooks.filter { $0.path == hook.path }.count
    }
}

@Suite("Webhooks per budget: signed POSTs, retries with backoff, the delivery log")
struct WebhookTests {
    static let secret = "whsec-0123456789abcdef"

    /// A local receiver: /flaky answers 500 the first time and 200 after, /broken always 500, /ok 200.
    static func receiver(_ received: ReceivedHooks) -> some ApplicationProtocol {
        let router = Router()
        router.post("hooks/:name") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let count = await received.append(.init(path: name, signature: request.headers[HTTPField.Name("X-Budget-Signature")!],
                                                    alertID: request.headers[HTTPField.Name("X-Budget-Alert-Id")!], body: Array(body.readableBytesView)))
            switch name {
            case "flaky": return Response(status: count == 1 ? .internalServerError : .ok)
            case "broken": return Response(status: .internalServerError)
            default: return Response(status: .ok)
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func verify(_ hook: ReceivedHooks.Hook) -> Bool {
        guard let header = hook.signature, let mac = WebhookSignature.mac(fromHeader: header) else { return false }
        let expected = Array(HMAC<SHA256>.authenticationCode(for: hook.body, using: SymmetricKey(data: Array(secret.utf8))))
        return WebhookSignature.constantTimeEquals(mac, expected)
    }

    @Test func alertsArePostedSignedRetriedAndLogged() async throws {
        let harness = try await APITestHarness.make()
        let received = ReceivedHooks()
        try await Self.receiver(received).test(.live) { receiver in
            let base = "http://127.0.0.1:\(try #require(receiver.port))/hooks"
            try await harness.withApp { client in
                let budget = try await client.makeBudget()
                let other = try await client.makeBudget()
                func hook(_ on: String, _ name: String, types: String = "null") async throws -> String {
                    let reply = try await client.send(.post, "/api/v1/budgets/\(on)/webhooks",
                                                      #"{"url":"\#(base)/\#(name)","secret":"\#(Self.secret)","types":\#(types)}"#)
                    #expect(reply.status == .created, "\(reply.text)")
                    #expect(reply.json["secret"] == nil, "the secret is not echoed")
                    return try #require(reply.string("id"))
                }
                let flaky = try await hook(budget, "flaky")
                let broken = try await hook(budget, "broken")
                let otherBudget = try await hook(other, "ok")
                let priceWatcher = try await hook(other, "prices", types: #"["unpriced_usage"]"#)

                _ = try await client.makeLimit(budget, #"{"scope":{"provider":"p"},"period":"daily","amount":"10","policy":"warn"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"8"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"0.5"}"#)
                let alert = try #require(try await client.send(.get, "/api/v1/alerts?type=threshold_crossed").items.first?["id"] as? String)

                let deliveredFlaky = try await eventually {
                    try await client.send(.get, "/api/v1/webhooks/\(flaky)/deliveries").items.first?["status"] as? String == "delivered"
                }
                #expect(deliveredFlaky)
                let flakyLog = try await client.send(.get, "/api/v1/webhooks/\(flaky)/deliveries").items
                #expect(flakyLog.count == 1, "one delivery per alert, not per request")
                let delivery = try #require(flakyLog.first)
                #expect(delivery["alert_id"] as? String == alert)
                #expect(delivery["attempts"] as? Int == 2)
                #expect(delivery["last_status_code"] as? Int == 200)
                #expect(delivery["delivered_at"] is String)
                let log = delivery["log"] as? [[String: any Sendable]] ?? []
                #expect(log.compactMap { $0["status_code"] as? Int } == [500, 200])
                #expect(log.first?["error"] as? String == "HTTP 500")

                let gaveUp = try await eventually {
                    try await client.send(.get, "/api/v1/webhooks/\(broken)/deliveries").items.first?["status"] as? String == "failed"
                }
                #expect(gaveUp)
                let brokenLog = try await client.send(.get, "/api/v1/webhooks/\(broken)/deliveries").items.first
                #expect(brokenLog?["attempts"] as? Int == 3, "the first attempt and one per retry delay")
                #expect((brokenLog?["log"] as? [[String: any Sendable]])?.count == 3)
                #expect(brokenLog?["next_attempt_at"] is NSNull)

                let hooks = await received.hooks
                #expect(hooks.filter { $0.path == "flaky" }.count == 2)
                #expect(hooks.filter { $0.path == "broken" }.count == 3)
                #expect(hooks.allSatisfy(Self.verify), "every POST carries a valid signature")
                let first = try #require(hooks.first { $0.path == "flaky" })
                #expect(first.alertID == alert)
                let payload = try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any]
                let sent = payload?["alert"] as? [String: Any]
                #expect(sent?["id"] as? String == alert)
                #expect(sent?["type"] as? String == "threshold_crossed")
                #expect(sent?["threshold"] as? String == "0.8")
                #expect(payload?["webhook_id"] as? String == flaky)
                var tampered = first
                tampered.body[tampered.body.count / 2] ^= 1
                #expect(!Self.verify(tampered))

                // Another budget's webhooks get none of this budget's alerts; a global alert goes to
                // the webhooks that subscribed to its type.
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"z","model":"who-knows"},"usage":{"input_tokens":1}}"#)
                let globalDelivered = try await eventually {
                    try await client.send(.get, "/api/v1/webhooks/\(priceWatcher)/deliveries").items.first?["status"] as? String == "delivered"
                }
                #expect(globalDelivered)
                #expect(try await client.send(.get, "/api/v1/webhooks/\(otherBudget)/deliveries").items.isEmpty)
                #expect(await received.hooks.filter { $0.path == "flaky" }.count == 2, "an unpriced alert is not sent to a webhook without that type")
            }
        }
    }

    /// `BUDGET_WEBHOOKS=off`: an instance that does not deliver leaves the queue to one that does.
    @Test func anInstanceWithDeliveryOffQueuesButDoesNotSend() async throws {
        let harness = try await APITestHarness.make()
        let received = ReceivedHooks()
        let quiet = {
            var alerts = APITestHarness.testAlerts
            alerts.deliverWebhooks = false
            return alerts
        }()
        try await Self.receiver(received).test(.live) { receiver in
            let base = "http://127.0.0.1:\(try #require(receiver.port))/hooks"
            let hook = try await harness.withApp(alerts: quiet) { client in
                let budget = try await client.makeBudget()
                let reply = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"\#(base)/quiet","secret":"\#(Self.secret)"}"#)
                let hook = try #require(reply.string("id"))
                _ = try await client.makeLimit(budget, #"{"scope":{"provider":"q"},"period":"daily","amount":"10","policy":"warn"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"q","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
                // Well past the test poll interval (0.1 s): still queued, never attempted.
                try await Task.sleep(for: .seconds(1.5))
                let queued = try await client.send(.get, "/api/v1/webhooks/\(hook)/deliveries").items
                #expect(queued.count == 1)
                #expect(queued.first?["status"] as? String == "pending")
                #expect(queued.first?["attempts"] as? Int == 0)
                return hook
            }
            #expect(await received.hooks.isEmpty)
            let delivered = try await harness.withApp { client in
                try await eventually {
                    try await client.send(.get, "/api/v1/webhooks/\(hook)/deliveries").items.first?["status"] as? String == "delivered"
                }
            }
            #expect(delivered, "an instance with delivery on sends what the quiet one queued")
            #expect(await received.hooks.filter { $0.path == "quiet" }.count == 1)
        }
    }

    /// BUDGET_SECRET_KEY: secrets are stored sealed (those stored before the key was set once a
    /// delivering instance starts), deliveries are still signed with the secret as given, and an
    /// instance without the key says why it cannot deliver.
    @Test func withASecretKeySecretsAndURLsAreSealedAtRestAndStillDeliver() async throws {
        let harness = try await APITestHarness.make()
        let received = ReceivedHooks()
        let sealing = {
            var alerts = APITestHarness.testAlerts
            alerts.secrets = WebhookSecrets(passphrase: "secret-key-0123456789abcdef")
            return alerts
        }()
        @Sendable func storedSecrets() async throws -> [String] {
            try await stored().map(\.secret)
        }
        @Sendable func stored() async throws -> [(url: String, secret: String)] {
            try await harness.sql { client in
                var values: [(url: String, secret: String)] = []
                for try await (url, secret) in try await client.query("SELECT url, secret FROM webhooks ORDER BY created_at").decode((String, String).self) {
                    values.append((url, secret))
                }
                return values
            }
        }
        try await Self.receiver(received).test(.live) { receiver in
            let base = "http://127.0.0.1:\(try #require(receiver.port))/hooks"
            let (budget, early) = try await harness.withApp { client in
                let budget = try await client.makeBudget()
                let reply = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"\#(base)/early","secret":"\#(Self.secret)"}"#)
                return (budget, try #require(reply.string("id")))
            }
            #expect(try await storedSecrets() == [Self.secret], "without a key a secret is stored as given")
            #expect(try await stored().first?.url == "\(base)/early", "and so is the URL")

            try await harness.withApp(alerts: sealing) { client in
                let late = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"\#(base)/late","secret":"\#(Self.secret)"}"#)
                #expect(late.status == .created)
                let sealed = try await eventually {
                    try await storedSecrets().filter { $0.hasPrefix("enc:v1:") && !$0.contains(Self.secret) }.count == 2
                }
                #expect(sealed, "the early secret is sealed when the worker starts, the late one as it is stored")
                #expect(try await stored().allSatisfy { $0.url.hasPrefix("enc:v1:") && !$0.url.contains("/hooks") }, "the URLs too")
                let shown = try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items.compactMap { $0["url"] as? String }
                #expect(Set(shown) == ["\(base)/early", "\(base)/late"], "listed as given")
                let marked = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"\#(base)/x","secret":"enc:v1:0123456789abcdef"}"#)
                #expect(marked.status == .badRequest && marked.field == "secret")

                _ = try await client.makeLimit(budget, #"{"scope":{"provider":"p"},"period":"daily","amount":"10","policy":"warn"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
                let bothDelivered = try await eventually { await Set(received.hooks.map(\.path)) == ["early", "late"] }
                #expect(bothDelivered)
                #expect(await received.hooks.allSatisfy(Self.verify), "signed with the secret as given")
                return ()
            }
            #expect(try await storedSecrets().count == 2)

            let refused = try await harness.withApp { client in
                _ = try await client.makeLimit(budget, #"{"scope":{"provider":"q"},"period":"daily","amount":"10","policy":"warn"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"q","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
                return try await eventually {
                    let log = try await client.send(.get, "/api/v1/webhooks/\(early)/deliveries").items.first?["log"] as? [[String: any Sendable]]
                    return (log?.first?["error"] as? String)?.contains("BUDGET_SECRET_KEY") == true
                }
            }
            #expect(refused, "an instance without the key says why it cannot deliver")
            let hidden = try await harness.withApp { client in try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items }
            #expect(hidden.count == 2 && hidden.allSatisfy { $0["url"] is NSNull && $0["url_sealed"] as? Bool == true })
            #expect(await received.hooks.count == 2, "nothing sent unsigned")
        }
    }

    /// Changing BUDGET_SECRET_KEY: with the old key in BUDGET_SECRET_KEY_PREVIOUS, what it sealed
    /// still opens, and a delivering instance seals it again with the new key when it starts, so
    /// that the old key can then be dropped.
    @Test func aNewSecretKeyWithThePreviousOneSealsTheWebhooksAgain() async throws {
        let harness = try await APITestHarness.make()
        let received = ReceivedHooks()
        @Sendable func alerts(_ key: String, previous: [String] = []) -> AlertConfiguration {
            var alerts = APITestHarness.testAlerts
            alerts.secrets = WebhookSecrets(passphrase: key, previous: previous)
            return alerts
        }
        let oldKey = "old-secret-key-0123456789", newKey = "new-secret-key-0123456789"
        @Sendable func stored() async throws -> [String] {
            try await harness.sql { client in
                var values: [String] = []
                for try await (url, secret) in try await client.query("SELECT url, secret FROM webhooks").decode((String, String).self) {
                    values += [url, secret]
                }
                return values
            }
        }
        try await Self.receiver(received).test(.live) { receiver in
            let base = "http://127.0.0.1:\(try #require(receiver.port))/hooks"
            let budget = try await harness.withApp(alerts: alerts(oldKey)) { client in
                let budget = try await client.makeBudget()
                let reply = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{"url":"\#(base)/rotated","secret":"\#(Self.secret)"}"#)
                #expect(reply.status == .created)
                return budget
            }
            let sealedWithOld = try await stored()
            #expect(sealedWithOld.count == 2 && sealedWithOld.allSatisfy { $0.hasPrefix("enc:v1:") })

            let rotated = try await harness.withApp(alerts: alerts(newKey, previous: [oldKey])) { client in
                let shown = try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items.first?["url"] as? String
                #expect(shown == "\(base)/rotated", "the old key still opens what it sealed")
                return try await eventually {
                    let now = try await stored()
                    return now.allSatisfy { $0.hasPrefix("enc:v1:") } && Set(now).isDisjoint(with: sealedWithOld)
                }
            }
            #expect(rotated, "sealed again when the delivering instance starts")

            try await harness.withApp(alerts: alerts(newKey)) { client in
                let shown = try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items.first?["url"] as? String
                #expect(shown == "\(base)/rotated", "the new key alone opens them now")
                _ = try await client.makeLimit(budget, #"{"scope":{"provider":"p"},"period":"daily","amount":"10","policy":"warn"}"#)
                _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
                let delivered = try await eventually { await received.hooks.map(\.path) == ["rotated"] }
                #expect(delivered)
                #expect(await received.hooks.allSatisfy(Self.verify), "signed with the secret as given")
            }
        }
    }

    @Test func webhooksAreValidatedListedAndDeleted() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let good = #""url":"https://hooks.example.com/budget","secret":"\#(Self.secret)""#
            for (body, field) in [
                (#"{"url":"ftp://x/y","secret":"\#(Self.secret)"}"#, "url"),
                (#"{"url":"not a url","secret":"\#(Self.secret)"}"#, "url"),
                (#"{"secret":"\#(Self.secret)"}"#, "url"),
                (#"{"url":"https://hooks.example.com/budget","secret":"short"}"#, "secret"),
                (#"{"url":"https://hooks.example.com/budget"}"#, "secret"),
                (#"{\#(good),"types":["nonsense"]}"#, "types"),
                (#"{\#(good),"types":[]}"#, "types"),
            ] {
                let reply = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.field == field, "\(body): \(reply.text)")
            }
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items.isEmpty, "refused requests changed nothing")
            #expect(try await client.send(.post, "/api/v1/budgets/\(UUID())/webhooks", "{\(good)}").status == .notFound)
            #expect(try await client.send(.get, "/api/v1/budgets/\(UUID())/webhooks").status == .notFound)

            let created = try await client.send(.post, "/api/v1/budgets/\(budget)/webhooks", #"{\#(good),"types":["threshold_crossed","allocation_denied"]}"#)
            #expect(created.status == .created)
            #expect(created.json["types"] as? [String] == ["allocation_denied", "threshold_crossed"])
            let id = try #require(created.string("id"))
            let listed = try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items
            #expect(listed.compactMap { $0["id"] as? String } == [id])
            #expect(listed.first?["secret"] == nil)
            #expect(try await client.send(.get, "/api/v1/webhooks/\(id)/deliveries").items.isEmpty)
            #expect(try await client.send(.get, "/api/v1/webhooks/\(UUID())/deliveries").status == .notFound)

            #expect(try await client.send(.delete, "/api/v1/budgets/\(budget)/webhooks/\(id)").status == .noContent)
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/webhooks").items.isEmpty)
            #expect(try await client.send(.delete, "/api/v1/budgets/\(budget)/webhooks/\(id)").status == .notFound)
        }
    }
}
