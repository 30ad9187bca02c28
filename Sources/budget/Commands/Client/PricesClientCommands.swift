// `budget prices list|show|conflicts|override`: reading prices and setting overrides on the
// server at --url or BUDGET_URL.
import ArgumentParser
import Foundation

/// Lenient reading of the price endpoints' JSON (money fields are strings).
private func objects(_ body: Data, key: String) throws -> [[String: Any]] {
    guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { return [] }
    return (object[key] as? [[String: Any]]) ?? []
}

private func text(_ value: Any?) -> String {
    switch value {
    case let string as String: return string
    case let number as NSNumber: return number.stringValue
    case nil, is NSNull: return "-"
    default: return "\(value!)"
    }
}

extension PricesCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List current prices (USD per token) on the server at --url or BUDGET_URL.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only this provider.") var provider: String?
        @Option(help: "Only this model.") var model: String?
        @Option(help: "Only this status: verified, single_source, conflict, manual.") var status: String?

        func run() async throws {
            try await client.run { http in
                let response = try await http.get("/api/v1/prices", query: [("provider", provider), ("model", model), ("status", status)])
                if client.json { return ClientOutput.printJSON(response.body) }
                var table = TextTable(["provider", "model", "input", "output", "cache read", "cache write", "status", "since"])
                for price in try objects(response.body, key: "items") {
                    table.append([text(price["provider"]), text(price["model"]), text(price["input_per_token"]), text(price["output_per_token"]),
                                  text(price["cache_read_per_token"]), text(price["cache_write_per_token"]), text(price["status"]), text(price["effective_from"])])
                }
                print(table.rows.isEmpty ? "no prices" : table.render())
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a model's current price and its history.", aliases: ["history"])
        @OptionGroup var client: ClientOptions
        @Argument(help: "Provider, e.g. anthropic.") var provider: String
        @Argument(help: "Model, e.g. claude-sonnet-4-5.") var model: String

        func run() async throws {
            try await client.run { http in
                let response = try await http.get(pricePath(provider, model))
                if client.json { return ClientOutput.printJSON(response.body) }
                var table = TextTable(["effective_from", "effective_to", "input", "output", "status", "source", "set_by", "hours (UTC)"])
                for version in try objects(response.body, key: "history") {
                    let hours = ((version["times_of_day"] as? [[String: Any]]) ?? []).map { window in
                        "\(text(window["start"]))-\(text(window["end"])) "
                            + ["input", "output", "cache_read", "cache_write"].compactMap { kind in window[kind].map { "\(kind)=\(text($0))" } }
                            .joined(separator: ",")
                    }
                    table.append([text(version["effective_from"]), text(version["effective_to"]), text(version["input_per_token"]),
                                  text(version["output_per_token"]), text(version["status"]), text(version["source"]), text(version["set_by"]),
                                  hours.joined(separator: "; ")])
                }
                print(table.render())
            }
        }
    }

    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List models whose price sources disagree, with every source's value.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.run { http in
                let response = try await http.get("/api/v1/prices/conflicts")
                if client.json { return ClientOutput.printJSON(response.body) }
                var table = TextTable(["provider", "model", "field", "values (source=USD per token)"])
                for conflict in try objects(response.body, key: "items") {
                    for (field, values) in ((conflict["fields"] as? [String: [[String: Any]]]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                        table.append([text(conflict["provider"]), text(conflict["model"]), field,
                                      values.map { "\(text($0["source"]))=\(text($0["value"]))" }.joined(separator: " ")])
                    }
                }
                print(table.rows.isEmpty ? "no conflicts" : table.render())
            }
        }
    }

    struct Override: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "override",
            abstract: "Set a manual price that syncs never replace (or --remove it); audited."
        )
        @OptionGroup var client: ClientOptions
        @Argument(help: "Provider, e.g. anthropic.") var provider: String
        @Argument(help: "Model, e.g. claude-sonnet-4-5.") var model: String
        @Option(help: "USD per input token, e.g. 0.000003.") var input: String?
        @Option(help: "USD per output token.") var output: String?
        @Option(name: .customLong("cache-read"), help: "USD per cache-read token.") var cacheRead: String?
        @Option(name: .customLong("cache-write"), help: "USD per cache-write token.") var cacheWrite: String?
        @Option(name: .customLong("hours"), help: ArgumentHelp(
            "Prices for hours of the UTC day, e.g. \"16:30-00:30 input=0.000000135,output=0.00000055\" (repeatable; kinds: input, output, cache_read, cache_write).",
            valueName: "start-end kind=usd,..."))
        var hours: [String] = []
        @Flag(help: "Remove the override (the sources' latest price is reinstated).") var remove = false

        func validate() throws {
            if !remove && (input == nil || output == nil) { throw ValidationError("--input and --output are required (or --remove)") }
            for window in hours { _ = try Self.timeOfDay(window) }
        }

        /// `16:30-00:30 input=0.000000135,output=0.00000055` as the API's window object (the server checks the values).
        static func timeOfDay(_ text: String) throws -> [String: String] {
            let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            let ends = parts.first?.split(separator: "-") ?? []
            guard parts.count == 2, ends.count == 2 else {
                throw ValidationError("--hours \"\(text)\": expected START-END followed by kind=usd pairs, e.g. \"16:30-00:30 input=0.000000135\"")
            }
            var window = ["start": String(ends[0]), "end": String(ends[1])]
            for pair in parts[1].split(separator: ",") {
                let kindAndPrice = pair.split(separator: "=", maxSplits: 1)
                guard kindAndPrice.count == 2, ["input", "output", "cache_read", "cache_write"].contains(String(kindAndPrice[0])) else {
                    throw ValidationError("--hours \"\(text)\": \"\(pair)\" is not one of input=, output=, cache_read=, cache_write=")
                }
                window[String(kindAndPrice[0])] = String(kindAndPrice[1])
            }
            return window
        }

        func run() async throws {
            try await client.run { http in
                let path = pricePath(provider, model)
                if remove {
                    _ = try await http.delete(path)
                    print("override of \(provider)/\(model) removed")
                    return
                }
                struct Body: Encodable {
                    var input_per_token: String, output_per_token: String
                    var cache_read_per_token: String?, cache_write_per_token: String?
                    var times_of_day: [[String: String]]?
                }
                let body = Body(input_per_token: input!, output_per_token: output!, cache_read_per_token: cacheRead, cache_write_per_token: cacheWrite,
                                times_of_day: hours.isEmpty ? nil : try hours.map(Self.timeOfDay))
                let response = try await http.put(path, body: body)
                if client.json { return ClientOutput.printJSON(response.body) }
                print("manual price set for \(provider)/\(model)")
            }
        }
    }
}

/// `/api/v1/prices/{provider}/{model}` with each name escaped as one path segment: a regional
/// provider (`bedrock[us]`) or a model with a slash or a space stays one segment.
func pricePath(_ provider: String, _ model: String) -> String {
    var segment = CharacterSet.urlPathAllowed
    segment.remove(charactersIn: "/[]")
    func escaped(_ name: String) -> String { name.addingPercentEncoding(withAllowedCharacters: segment) ?? name }
    return "/api/v1/prices/\(escaped(provider))/\(escaped(model))"
}
