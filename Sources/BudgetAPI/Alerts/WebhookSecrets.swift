// Webhook secrets and URLs at rest. With BUDGET_SECRET_KEY set, a webhook's secret and its URL
// (which often carries a token of its own, as Slack's and Discord's do) are stored sealed
// (AES-GCM under a key derived from the setting with HKDF-SHA256) as `enc:v1:` + base64 of nonce,
// ciphertext and tag, and opened only to deliver or to show the webhook; values stored before the
// key was set are sealed when a delivering instance starts. Without the setting they are stored
// as given. A sealed value cannot be opened without the key it was sealed with: deliveries then
// fail with a message that says so, and listings show no URL. To change the key, the old one goes
// to BUDGET_SECRET_KEY_PREVIOUS: values sealed with it still open, and a delivering instance seals
// them again with the new one when it starts.
import Crypto
import Foundation

public struct WebhookSecrets: Sendable {
    static let prefix = "enc:v1:"
    /// The key values are sealed with (nil: stored as given).
    private let key: SymmetricKey?
    /// Keys values may still be sealed with; they open, and are sealed again with `key`.
    private let previousKeys: [SymmetricKey]

    /// `passphrase`: BUDGET_SECRET_KEY (nil: secrets are stored as given); `previous`:
    /// BUDGET_SECRET_KEY_PREVIOUS, the keys it had before.
    public init(passphrase: String?, previous: [String] = []) {
        key = passphrase.map(Self.derivedKey)
        previousKeys = previous.map(Self.derivedKey)
    }

    private static func derivedKey(_ passphrase: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(passphrase.utf8)),
                               info: Data("budget webhook secrets v1".utf8), outputByteCount: 32)
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

    /// What a delivering instance stores instead of `stored` when it starts: the value sealed with
    /// the current key if it is stored as given or sealed with a previous key; nil if it is already
    /// sealed with the current key, or no key is set.
    func resealed(_ stored: String, what: String) throws -> String? {
        guard let key else { return nil }
        guard Self.isSealed(stored) else { return try self.stored(stored) }
        if Self.open(stored, with: key) != nil { return nil }
        return try self.stored(opened(stored, what: what))
    }

    private func opened(_ stored: String, what: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        guard key != nil || !previousKeys.isEmpty else {
            throw WebhookSecretError(message: "the webhook's \(what) is stored sealed and this instance has no BUDGET_SECRET_KEY to open it")
        }
        for candidate in [key].compactMap({ $0 }) + previousKeys {
            if let value = Self.open(stored, with: candidate) { return value }
        }
        throw WebhookSecretError(message: previousKeys.isEmpty
            ? "the webhook's \(what) does not open with this BUDGET_SECRET_KEY (it was sealed with another key)"
            : "the webhook's \(what) opens neither with BUDGET_SECRET_KEY nor with a key of BUDGET_SECRET_KEY_PREVIOUS")
    }

    /// The value `stored` holds, if it was sealed with `key` (nil: another key, or not a sealed value).
    private static func open(_ stored: String, with key: SymmetricKey) -> String? {
        guard let combined = Data(base64Encoded: String(stored.dropFirst(prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: combined), let plain = try? AES.GCM.open(box, using: key) else { return nil }
        return String(data: plain, encoding: .utf8)
    }
}

struct WebhookSecretError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
