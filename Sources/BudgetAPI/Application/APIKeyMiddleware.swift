// Optional shared-key authentication of the API (BUDGET_API_KEY). With keys configured, every
// request under /api/v1 must present one, as `Authorization: Bearer <key>` or `X-API-Key: <key>`;
// without, the API trusts its callers as before. Health and readiness stay open for probes.
// Several keys may be configured at once, so that a key can be replaced without a pause.
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The keys the API accepts. Only their SHA-256 digests are kept, and a presented key is compared
/// with each in constant time, so neither a key's bytes nor its length show in response times.
public struct APIKeys: Sendable {
    private let digests: [SHA256.Digest]

    /// Nil when `keys` is empty (the API is open).
    public init?(_ keys: [String]) {
        guard !keys.isEmpty else { return nil }
        digests = keys.map { SHA256.hash(data: Data($0.utf8)) }
    }

    func accepts(_ presented: Substring) -> Bool {
        let digest = SHA256.hash(data: Data(presented.utf8))
        var accepted = false
        for known in digests {
            // SHA256.Digest's == compares in constant time.
            accepted = (known == digest) || accepted
        }
        return accepted
    }
}

struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys

    static var apiKeyField: HTTPField.Name { HTTPField.Name("X-API-Key")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = Self.presentedKey(request.headers) else {
            throw Self.refusal("an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>")
        }
        guard keys.accepts(presented) else { throw Self.refusal("the API key is not valid") }
        return try await next(request, context)
    }

    static func presentedKey(_ headers: HTTPFields) -> Substring? {
        if let key = headers[apiKeyField] { return key[...] }
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1]
    }

    static func refusal(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
}
