// Which catalogues a sync reads: the built-in list, or the JSON file named by
// BUDGET_PRICE_SOURCES_FILE (an array of {name, format, url, weight, lineage, refresh_seconds, enabled}).
import Foundation

public struct PriceSourceConfig: Sendable, Hashable, Codable {
    public var name: String
    public var format: PriceSourceFormat
    /// Portkey's URL holds `{provider}`: one document per entry of `providers`.
    public var url: String
    public var weight: Decimal
    /// The source this one copies (counted once with it), e.g. tokencost → litellm.
    public var lineage: String?
    public var refreshSeconds: Int
    public var enabled: Bool
    public var providers: [String]?
    /// How long one document may take.
    public var timeoutSeconds: Int
    /// At most this many requests a minute to the source (its documents are spaced out); nil = no limit.
    public var requestsPerMinute: Int?

    public init(name: String, format: PriceSourceFormat, url: String, weight: Decimal, lineage: String? = nil,
                refreshSeconds: Int = 21_600, enabled: Bool = true, providers: [String]? = nil,
                timeoutSeconds: Int = 30, requestsPerMinute: Int? = nil) {
        self.name = name
        self.format = format
        self.url = url
        self.weight = weight
        self.lineage = lineage
        self.refreshSeconds = refreshSeconds
        self.enabled = enabled
        self.providers = providers
        self.timeoutSeconds = timeoutSeconds
        self.requestsPerMinute = requestsPerMinute
    }

    enum CodingKeys: String, CodingKey {
        case name, format, url, weight, lineage, enabled, providers
        case refreshSeconds = "refresh_seconds", timeoutSeconds = "timeout_seconds", requestsPerMinute = "requests_per_minute"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        format = try container.decode(PriceSourceFormat.self, forKey: .format)
        url = try container.decodeIfPresent(String.self, forKey: .url) ?? format.liveURL
        if let text = try? container.decode(String.self, forKey: .weight), let value = Decimal(string: text) {
            weight = value
        } else {
            weight = try container.decode(Decimal.self, forKey: .weight)
        }
        lineage = try container.decodeIfPresent(String.self, forKey: .lineage)
        refreshSeconds = try container.decodeIfPresent(Int.self, forKey: .refreshSeconds) ?? 21_600
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        providers = try container.decodeIfPresent([String].self, forKey: .providers)
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 30
        requestsPerMinute = try container.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        guard timeoutSeconds > 0, refreshSeconds > 0, (requestsPerMinute ?? 1) > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .timeoutSeconds, in: container,
                                                   debugDescription: "timeout_seconds, refresh_seconds and requests_per_minute must be positive")
        }
        guard weight > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .weight, in: container, debugDescription: "weight must be positive")
        }
        if format == .portkey && url.contains("{provider}") && (providers ?? Self.portkeyProviders).isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .providers, in: container, debugDescription: "a portkey URL with {provider} needs providers")
        }
    }

    public var profile: SourceProfile {
        SourceProfile(name: name, weight: weight, lineage: lineage)
    }

    /// The URLs to fetch: one, or one per provider for `{provider}` templates.
    public var documents: [(url: String, provider: String?)] {
        guard url.contains("{provider}") else { return [(url, nil)] }
        return (providers ?? Self.portkeyProviders).map { (url.replacingOccurrences(of: "{provider}", with: $0), $0) }
    }

    static let portkeyProviders = ["anthropic", "openai", "google", "mistral-ai", "deepseek", "x-ai", "groq", "cohere"]

    /// The built-in list: the six public catalogues at their live URLs, weighted by how closely
    /// each follows the vendors' price lists (see SourceProfile.defaults for the reasons).
    public static let builtIn: [PriceSourceConfig] = SourceProfile.defaults.compactMap { profile in
        guard let format = PriceSourceFormat(rawValue: profile.name) else { return nil }
        // Portkey serves one document per provider: keep well under any sensible rate limit.
        return PriceSourceConfig(name: profile.name, format: format, url: format.liveURL, weight: profile.weight, lineage: profile.lineage,
                                 requestsPerMinute: format == .portkey ? 30 : nil)
    }

    /// The sources to use: the file's list when a path is given, else the built-in list.
    public static func load(file path: String?) throws -> [PriceSourceConfig] {
        guard let path else { return builtIn }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let sources = try JSONDecoder().decode([PriceSourceConfig].self, from: data)
        let names = sources.map(\.name)
        guard Set(names).count == names.count else { throw PriceSyncError.configuration("\(path): two sources share a name") }
        return sources
    }
}

public enum PriceSyncError: Error, CustomStringConvertible, Sendable {
    case configuration(String)
    case http(status: Int, url: String)
    case timeout(url: String)

    public var description: String {
        switch self {
        case .configuration(let message): return message
        case .http(let status, let url): return "HTTP \(status) from \(url)"
        case .timeout(let url): return "no answer from \(url) in time"
        }
    }
}
