// Webhook secrets and URLs at rest. With BUDGET_SECRET_KEY set, a webhook's secret and its URL
// (which often carries a token of its own, as Slack's and Discord's do) are stored sealed
// (AES-GCM under a key derived from the setting with HKDF-SHA256) as `enc:v1:` + base64 of nonce,
// ciphertext and tag, and opened only to deliver or to show the webhook; values stored before the
// key was set are sealed when a delivering instance starts. Without the setting they are stored
// as given. A sealed value cannot be opened without the key it was sealed with: deliveries then
// fail with a message that says so, and listings show no URL.
import Crypto
import Foundation

public struct WebhookSecrets: Sendable {
    static let prefix = "enc:v1:"
    private let key: SymmetricKey?

    /// `passphrase`: BUDGET_SECRET_KEY (nil: secrets are stored as given).
    public init(passphrase: String?) {
        key = passphrase.map { passphrase in
            HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(passphrase.utf8)),
                                   info: Data("budget webhook secrets v1".utf8), outputByteCount: 32)
        }
    }

    var sealsSecrets: Bool { key != nil }

    static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// What to store for a secret or URL: sealed when a key is set, else the value itself.
    func stored(_ value: String) throws -> String {
        guard let key else { return value }
        guard let combined = try AES.GCM.seal(Data(value.utf8), using: key).combined else {
            throw WebhookSecretError(message: "a webhook value could not be sealed")
        }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The secret to sign with, from what is stored.
    func secret(from stored: String) throws -> String {
        try opened(stored, what: "secret")
    }

    /// The URL to deliver to, from what is stored.
    func url(from stored: String) throws -> String {
        try opened(stored, what: "URL")
    }

    private func opened(_ stored: String, what: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        guard let key else {
            throw WebhookSecretError(message: "the webhook's \(what) is stored sealed and this instance has no BUDGET_SECRET_KEY to open it")
        }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: combined), let plain = try? AES.GCM.open(box, using: key),
              let value = String(data: plain, encoding: .utf8) else {
            throw WebhookSecretError(message: "the webhook's \(what) does not open with this BUDGET_SECRET_KEY (it was sealed with another key)")
        }
        return value
    }
}

struct WebhookSecretError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
