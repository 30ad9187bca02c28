// Optional key authentication of the API, in two roles.
// - BUDGET_API_KEY (callers): with keys configured, every request under /api/v1 must present one,
//   as `Authorization: Bearer <key>` or `X-API-Key: <key>`; without, the API trusts its callers.
// - BUDGET_ADMIN_KEY (administrators): with keys configured, the calls that change the rules
//   rather than spend under them (budgets, limits, window resets, prices and aliases, webhooks,
//   and the same through the compatibility routes) need one of these keys; a caller's key gets a
//   403. An administrator's key is accepted wherever a caller's is.
// Health and readiness stay open for probes. Several keys of a role may be configured at once, so
// that a key can be replaced without a pause.
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The keys the API accepts, each with its role. Only their SHA-256 digests are kept, and a
/// presented key is compared with every one in constant time, so neither a key's bytes, its length
/// nor its role show in response times.
public struct APIKeys: Sendable {
    public enum Role: Sendable, Equatable {
        case caller
        case administrator
    }

    private let keys: [(digest: SHA256.Digest, role: Role)]
    /// Every call under /api/v1 needs a key (BUDGET_API_KEY is set).
    let guardsEveryCall: Bool
    /// Changing budgets, limits, prices, webhooks and resets needs an administrator's key (BUDGET_ADMIN_KEY is set).
    let guardsAdministration: Bool

    /// Nil when both lists are empty (the API is open).
    public init?(callers: [String], administrators: [String] = []) {
        guard !callers.isEmpty || !administrators.isEmpty else { return nil }
        keys = callers.map { (SHA256.hash(data: Data($0.utf8)), Role.caller) }
            + administrators.map { (SHA256.hash(data: Data($0.utf8)), Role.administrator) }
        guardsEveryCall = !callers.isEmpty
        guardsAdministration = !administrators.isEmpty
    }

    /// The role of a presented key (nil: not a key of this API).
    func role(of presented: Substring) -> Role? {
        let digest = SHA256.hash(data: Data(presented.utf8))
        var caller = false
        var administrator = false
        for known in keys {
            // SHA256.Digest's == compares in constant time; every key is compared.
            let match = known.digest == digest
            caller = (match && known.role == .caller) || caller
            administrator = (match && known.role == .administrator) || administrator
        }
        return administrator ? .administrator : caller ? .caller : nil
    }
}

/// Refuses a request that does not present a key of `required` role (an administrator's key
/// serves for a caller's).
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    let required: APIKeys.Role

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try keys.admit(request.headers, as: required)
        return try await next(request, context)
    }
}

extension APIKeys {
    /// Throws the API's refusal unless the headers present a key of `required` role (an
    /// administrator's key serves for a caller's): 401 without a valid key, 403 for a caller's key
    /// where an administrator's is needed.
    func admit(_ headers: HTTPFields, as required: Role) throws {
        guard let presented = Self.presentedKey(headers) else {
            throw Self.refusal(required == .administrator
                ? "this call changes budgets, limits, prices or webhooks and needs an administrator's key (BUDGET_ADMIN_KEY): send Authorization: Bearer <key> or X-API-Key: <key>"
                : "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>")
        }
        switch (role(of: presented), required) {
        case (nil, _):
            throw Self.refusal("the API key is not valid")
        case (.caller, .administrator):
            throw APIError(.forbidden, code: "forbidden",
                           message: "this call changes budgets, limits, prices or webhooks and needs an administrator's key (BUDGET_ADMIN_KEY), not a caller's")
        default:
            return
        }
    }

    static var apiKeyField: HTTPField.Name { HTTPField.Name("X-API-Key")! }

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

/// Where a controller adds its routes: `api` for every caller, `administration` for the calls that
/// change the rules, which BUDGET_ADMIN_KEY guards when it is set.
struct APIRoutes {
    let api: RouterGroup<BudgetRequestContext>
    let administration: RouterGroup<BudgetRequestContext>

    init(api: RouterGroup<BudgetRequestContext>, keys: APIKeys?) {
        if let keys, keys.guardsEveryCall { api.add(middleware: APIKeyMiddleware<BudgetRequestContext>(keys: keys, required: .caller)) }
        let administration = api.group()
        if let keys, keys.guardsAdministration {
            administration.add(middleware: APIKeyMiddleware<BudgetRequestContext>(keys: keys, required: .administrator))
        }
        self.api = api
        self.administration = administration
    }
}
