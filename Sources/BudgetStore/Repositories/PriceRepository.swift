// Price versions: the current price of a model, its history, and manual prices set by an admin.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct PriceRecord: Sendable, Hashable {
    public var price: Price
    public var status: String
    public var source: String
    public var setBy: String?
    public var effectiveTo: Date?
}

public struct PriceRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    typealias Row = (UUID, String, String, String, String, Decimal, Decimal, Decimal?, Decimal?, Decimal?, Date, Date?, String, String, String?)
    static let selectColumns = """
        SELECT id, provider, provider_key, model_key, model, input_per_token, output_per_token, cache_read_per_token,
               cache_write_per_token, reasoning_per_token, effective_from, effective_to, status, source, set_by FROM prices
        """

    static func price(from row: Row) -> Price {
        Price(id: row.0, provider: row.1, model: row.4, input: row.5, output: row.6, cacheRead: row.7, cacheWrite: row.8, reasoning: row.9, effectiveFrom: row.10)
    }

    static func record(from row: Row) -> PriceRecord {
        PriceRecord(price: price(from: row), status: row.12, source: row.13, setBy: row.14, effectiveTo: row.11)
    }

    /// Sets a manual price: closes the current version (if any) and adds a new one.
    public func setManual(provider: String, model: String, input: Decimal, output: Decimal, cacheRead: Decimal?, cacheWrite: Decimal?,
                          reasoning: Decimal?, by actor: String?, logger: Logger) async throws -> PriceRecord {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE prices SET effective_to = now()
                WHERE provider_key = lower(btrim(\(provider))) AND model_key = lower(btrim(\(model))) AND effective_to IS NULL
                """, logger: logger)
            let rows = try await connection.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
                                    cache_write_per_token, reasoning_per_token, status, source, set_by)
                VALUES (\(provider), \(model), lower(btrim(\(provider))), lower(btrim(\(model))), \(input), \(output), \(cacheRead),
                        \(cacheWrite), \(reasoning), 'manual', 'manual', \(actor))
                RETURNING id, provider, provider_key, model_key, model, input_per_token, output_per_token, cache_read_per_token,
                          cache_write_per_token, reasoning_per_token, effective_from, effective_to, status, source, set_by
                """, logger: logger)
            for try await row in rows.decode(Row.self) { return Self.record(from: row) }
            throw StoreError(.corrupt, "the price was not written")
        }
    }

    /// Every version of a model's price, newest first.
    public func history(provider: String, model: String, logger: Logger) async throws -> [PriceRecord] {
        let rows = try await client.query(PostgresQuery(
            unsafeSQL: Self.selectColumns + " WHERE provider_key = lower(btrim($1)) AND model_key = lower(btrim($2)) ORDER BY effective_from DESC",
            binds: try BudgetRepository.binds(provider, model)
        ), logger: logger)
        var records: [PriceRecord] = []
        for try await row in rows.decode(Row.self) { records.append(Self.record(from: row)) }
        return records
    }
}
