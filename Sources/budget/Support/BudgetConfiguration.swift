// The service's settings, read once from the environment (documented in README.md).
import BudgetStore
import Foundation
import Logging

struct BudgetConfiguration: Sendable {
    var host: String
    var port: Int
    var databaseURL: String?
    var dataDirectory: String
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var sqlDirectory: String?
    var postgresBinDirectory: String?
    var databasePoolSize: Int
    var priceSourcesFile: String?
    /// Nil when scheduled syncs are off (BUDGET_PRICE_SYNC_INTERVAL=0).
    var priceSyncInterval: Duration?
    /// BUDGET_RAW_RETENTION_MONTHS: months of raw ledger partitions kept (nil: all, the default).
    var rawRetentionMonths: Int? = nil
    /// BUDGET_WEBHOOKS=off: this instance does not deliver webhooks (others sharing the database do).
    var deliverWebhooks = true
    /// BUDGET_ALERT_STREAM=off: this instance does not stream alerts (and holds no LISTEN connection).
    var streamAlerts = true
    /// BUDGET_API_KEY: the keys /api/v1 accepts, comma-separated (empty: the API is open).
    var apiKeys: [String] = []
    /// BUDGET_ADMIN_KEY: the keys that may change budgets, limits, prices and webhooks (empty: any key /api/v1 accepts may).
    var adminKeys: [String] = []
    /// BUDGET_SECRET_KEY: seals webhook secrets at rest (nil: stored as given).
    var secretKey: String?
    /// BUDGET_SECRET_KEY_PREVIOUS: keys values may still be sealed with; a delivering instance seals them again with secretKey.
    var previousSecretKeys: [String] = []

    enum LogFormat: String, Sendable { case text, json }

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BudgetConfiguration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        let port: Int
        if let raw = value("BUDGET_PORT") {
            guard let parsed = Int(raw), (0...65535).contains(parsed) else {
                throw ConfigurationError("BUDGET_PORT must be a port number (0–65535), not '\(raw)'")
            }
            port = parsed
        } else {
            port = 8013
        }
        let level: Logger.Level
        if let raw = value("BUDGET_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: raw.lowercased()) else {
                throw ConfigurationError("BUDGET_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
            level = parsed
        } else {
            level = .info
        }
        let format: LogFormat
        if let raw = value("BUDGET_LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError("BUDGET_LOG_FORMAT must be text or json")
            }
            format = parsed
        } else {
            format = .text
        }
        var poolSize = 8
        if let raw = value("BUDGET_DB_POOL_SIZE") {
            guard let parsed = Int(raw), (1...200).contains(parsed) else {
                throw ConfigurationError("BUDGET_DB_POOL_SIZE must be a number of connections between 1 and 200")
            }
            poolSize = parsed
        }
        var syncInterval: Duration? = .seconds(21_600)
        if let raw = value("BUDGET_PRICE_SYNC_INTERVAL") {
            guard let seconds = Int(raw), seconds >= 0 else {
                throw ConfigurationError("BUDGET_PRICE_SYNC_INTERVAL must be a number of seconds (0 turns scheduled syncs off)")
            }
            syncInterval = seconds == 0 ? nil : .seconds(seconds)
        }
        var retention: Int?
        if let raw = value("BUDGET_RAW_RETENTION_MONTHS") {
            guard let months = Int(raw), months >= 1 else {
                throw ConfigurationError("BUDGET_RAW_RETENTION_MONTHS must be a whole number of months, at least 1 (unset keeps everything)")
            }
            retention = months
        }
        let webhooks = try onOff(value("BUDGET_WEBHOOKS"), name: "BUDGET_WEBHOOKS") ?? true
        let stream = try onOff(value("BUDGET_ALERT_STREAM"), name: "BUDGET_ALERT_STREAM") ?? true
        let apiKeys = try apiKeyList(value("BUDGET_API_KEY"), name: "BUDGET_API_KEY")
        let adminKeys = try apiKeyList(value("BUDGET_ADMIN_KEY"), name: "BUDGET_ADMIN_KEY")
        if !Set(apiKeys).isDisjoint(with: adminKeys) {
            throw ConfigurationError("BUDGET_ADMIN_KEY and BUDGET_API_KEY share a key: an administrator's key must not also be a caller's")
        }
        let secretKey = value("BUDGET_SECRET_KEY")
        if let secretKey, secretKey.count < 16 {
            throw ConfigurationError("BUDGET_SECRET_KEY must be at least 16 characters (e.g. openssl rand -hex 32)")
        }
        let previousSecretKeys = try previousSecretKeyList(value("BUDGET_SECRET_KEY_PREVIOUS"), current: secretKey)
        return BudgetConfiguration(
            host: value("BUDGET_HOST") ?? "127.0.0.1",
            port: port,
            databaseURL: value("BUDGET_DATABASE_URL"),
            dataDirectory: value("BUDGET_DATA_DIR") ?? FileManager.default.currentDirectoryPath + "/.budget",
            logLevel: level,
            logFormat: format,
            sqlDirectory: value("BUDGET_SQL_DIR"),
            postgresBinDirectory: value("BUDGET_PG_BINDIR"),
            databasePoolSize: poolSize,
            priceSourcesFile: value("BUDGET_PRICE_SOURCES_FILE"),
            priceSyncInterval: syncInterval,
            rawRetentionMonths: retention,
            deliverWebhooks: webhooks,
            streamAlerts: stream,
            apiKeys: apiKeys,
            adminKeys: adminKeys,
            secretKey: secretKey,
            previousSecretKeys: previousSecretKeys
        )
    }

    /// The keys a comma-separated setting lists (BUDGET_API_KEY, BUDGET_ADMIN_KEY,
    /// BUDGET_SECRET_KEY_PREVIOUS), trimmed, in order; not checked: an empty one stays, so that
    /// `apiKeyList` refuses it rather than opening the API.
    static func splitKeys(_ raw: String?) -> [String] {
        raw.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
    }

    /// An on|off setting (nil: unset).
    static func onOff(_ raw: String?, name: String) throws -> Bool? {
        guard let raw else { return nil }
        switch raw.lowercased() {
        case "on": return true
        case "off": return false
        default: throw ConfigurationError("\(name) must be on or off, not '\(raw)'")
        }
    }

    /// BUDGET_API_KEY or BUDGET_ADMIN_KEY (`name`): one key, or several separated by commas (while a
    /// key is being replaced).
    static func apiKeyList(_ raw: String?, name: String) throws -> [String] {
        let keys = splitKeys(raw)
        if keys.contains(where: { $0.count < 16 || $0.contains { character in character.isWhitespace || !character.isASCII } }) {
            throw ConfigurationError("\(name) must hold keys of at least 16 printable ASCII characters without spaces, separated by commas (e.g. openssl rand -hex 32)")
        }
        return keys
    }

    /// BUDGET_SECRET_KEY_PREVIOUS: the keys BUDGET_SECRET_KEY had before (comma-separated), while
    /// the values sealed with them are sealed again with the current one.
    static func previousSecretKeyList(_ raw: String?, current: String?) throws -> [String] {
        let keys = splitKeys(raw)
        guard !keys.isEmpty else { return [] }
        guard current != nil else {
            throw ConfigurationError("BUDGET_SECRET_KEY_PREVIOUS needs BUDGET_SECRET_KEY: the values sealed with a previous key are sealed again with the current one")
        }
        if keys.contains(where: { $0.count < 16 }) {
            throw ConfigurationError("BUDGET_SECRET_KEY_PREVIOUS must hold keys of at least 16 characters, separated by commas")
        }
        return keys
    }

    /// The help text listing every setting, shown by `budget --help`.
    static let environmentHelp = """
        Settings (environment variables):
          BUDGET_DATABASE_URL  PostgreSQL to use, e.g. postgres://user:pw@host:5432/budget?sslmode=require.
                               Unset: Budget runs its own private PostgreSQL under BUDGET_DATA_DIR.
          BUDGET_DATA_DIR      Data directory of the private PostgreSQL (default: ./.budget)
          BUDGET_HOST          Address the HTTP server binds (default: 127.0.0.1)
          BUDGET_PORT          HTTP port (default: 8013)
          BUDGET_LOG_LEVEL     trace|debug|info|notice|warning|error|critical (default: info)
          BUDGET_LOG_FORMAT    text|json — json writes one JSON object a line (default: text)
          BUDGET_SQL_DIR       Folder holding migrations/ (default: the sql/ next to the executable)
          BUDGET_PG_BINDIR     Folder of initdb/pg_ctl (default: pg_config --bindir, /usr/lib/postgresql/*/bin)
          BUDGET_DB_POOL_SIZE  Connections to PostgreSQL per Budget process (default: 8)
          BUDGET_PRICE_SYNC_INTERVAL  Seconds between price syncs in `serve` (default: 21600; 0 = off)
          BUDGET_PRICE_SOURCES_FILE   JSON list of price sources replacing the built-in one
          BUDGET_RAW_RETENTION_MONTHS  Drop raw ledger partitions older than N months (rollups stay; default: off)
          BUDGET_WEBHOOKS      on|off — whether this `serve` delivers webhooks (default: on)
          BUDGET_ALERT_STREAM  on|off — whether this `serve` streams alerts, holding one LISTEN connection (default: on)
          BUDGET_API_KEY       Keys /api/v1 requires (comma-separated; unset: open API). The client
                               commands send the first as Authorization: Bearer.
          BUDGET_ADMIN_KEY     Keys that alone may change budgets, limits, resets, prices and webhooks
                               (comma-separated; unset: any key /api/v1 accepts may). The client
                               commands send its first key instead of BUDGET_API_KEY's when it is set.
          BUDGET_SECRET_KEY    Seals webhook secrets and URLs at rest (AES-GCM); keep it: sealed webhooks need it
          BUDGET_SECRET_KEY_PREVIOUS  Former BUDGET_SECRET_KEY values (comma-separated): what they sealed still
                               opens, and a delivering `serve` seals it again with the current key
          BUDGET_URL           Server the client commands talk to (default: http://127.0.0.1:8013)
        """
}

struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
