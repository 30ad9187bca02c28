// `budget import apollo-policies`: Apollo's budget_policies.json (a JSON list of
// `BudgetPolicy.model_dump()` objects, written by TokenBudgetManager._save_policies) becomes the
// token limits of the `apollo` budget. Upserted by policy_id in one transaction, so importing the
// same file twice changes nothing; a file that is not a policy file changes nothing either.
import BudgetCore
import BudgetStore
import Foundation
import Logging
import PostgresNIO

public struct ApolloPolicyImporter: Sendable {
    let repository: ApolloCompatRepository

    public init(client: PostgresClient) {
        self.repository = ApolloCompatRepository(client: client)
    }

    public struct Report: Sendable, Equatable {
        public var policies: Int
        public var summary: ApolloCompatRepository.ImportSummary
    }

    public func importFile(at path: String, actor: String = "import:apollo-policies", logger: Logger) async throws -> Report {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImportError(.unreadableFile, "cannot read \(path): \(error.localizedDescription)")
        }
        let policies = try Self.parse(data, name: (path as NSString).lastPathComponent)
        let summary = try await repository.importPolicies(policies, actor: actor, logger: logger)
        return Report(policies: policies.count, summary: summary)
    }

    /// The policies of a policy file, or an error naming what is wrong (nothing is written then).
    /// Accepted: Apollo's list of policies; also `{"policies": [...]}` and an object keyed by
    /// policy id (as Apollo holds them in memory). Keys may be snake_case or camelCase.
    public static func parse(_ data: Data, name: String = "the file") throws -> [ApolloPolicy] {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ImportError(.invalidPolicyFile, "\(name) is not JSON, so it is not an Apollo policy file (budget_policies.json)")
        }
        let entries: [(key: String?, value: JSONValue)]
        switch json {
        case .array(let items):
            entries = items.map { (nil, $0) }
        case .object(let object):
            if case .array(let items)? = object["policies"] {
                entries = items.map { (nil, $0) }
            } else if !object.isEmpty, object.values.allSatisfy({ if case .object = $0 { true } else { false } }) {
                entries = object.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            } else {
                throw ImportError(.invalidPolicyFile, "\(name) is not an Apollo policy file: expected a JSON list of policies (budget_policies.json)")
            }
        default:
            throw ImportError(.invalidPolicyFile, "\(name) is not an Apollo policy file: expected a JSON list of policies (budget_policies.json)")
        }
        var policies: [ApolloPolicy] = []
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            guard case .object(var object) = entry.value else {
                throw ImportError(.invalidPolicyFile, "\(name) is not an Apollo policy file: entry \(index + 1) is not an object")
            }
            if let key = entry.key, object["policy_id"] == nil, object["policyId"] == nil { object["policy_id"] = .string(key) }
            let policy: ApolloPolicy
            do {
                policy = try ApolloPolicy.parse(object)
            } catch {
                throw ImportError(.invalidPolicyFile, Self.describe(error, index: index, object: object, name: name))
            }
            guard seen.insert(policy.policyID).inserted else {
                throw ImportError(.invalidPolicyFile, "\(name): policy_id \(policy.policyID) appears twice; nothing was imported")
            }
            policies.append(policy)
        }
        return policies
    }

    static func describe(_ error: ApolloPolicyParseError, index: Int, object: [String: JSONValue], name: String) -> String {
        var label = "policy \(index + 1)"
        if case .string(let id)? = object["policy_id"] ?? object["policyId"] { label += " (\(id))" }
        return "\(name): \(label): \(error.field) \(error.message); nothing was imported"
    }
}
