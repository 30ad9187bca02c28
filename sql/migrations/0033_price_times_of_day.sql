-- Prices for calls made at certain hours of the UTC day (DeepSeek's off-peak rates, stated by
-- genai-prices as prices with a `start_time`-`end_time` constraint). Stored with each price version
-- as decimal strings, the window from `start` (included) to `end` (excluded), past midnight when
-- the end is before the start; kinds left out keep the base price:
-- [{"start": "16:30", "end": "00:30", "input": "0.000000135", "output": "0.00000055", "cache_read": "0.000000035"}]
-- A call made in a window is priced with its prices, any other call with the base prices; an
-- estimate (made before the call) uses the dearest hour of the day.
ALTER TABLE prices ADD COLUMN times_of_day jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(times_of_day) = 'array');
COMMENT ON COLUMN prices.times_of_day IS 'Prices for calls made within windows of the UTC day: [{"start": "HH:MM", "end": "HH:MM", "input"|"output"|"cache_read"|"cache_write": "decimal"}]; the base prices apply at any other time.';

-- The reporting view of price versions (0012) shows them too, with the long-context tiers and
-- batch prices that already priced usage (appended: CREATE OR REPLACE VIEW keeps the columns before).
CREATE OR REPLACE VIEW report.price_history AS
SELECT provider, model, provider_key, model_key, input_per_token, output_per_token, cache_read_per_token,
       cache_write_per_token, reasoning_per_token, status, source, set_by, effective_from, effective_to,
       effective_to IS NULL AS current, id AS price_id,
       (SELECT count(*) FROM public.usage_records u WHERE u.price_id = p.id) AS priced_records,
       batch_input_per_token, batch_output_per_token, context_tiers, times_of_day
FROM public.prices p;
COMMENT ON VIEW report.price_history IS 'Every price version (USD per token) with its validity, status and source; priced_records counts the ledger rows it priced (kept raw rows only). Filter by provider_key/model_key. batch_*_per_token, context_tiers and times_of_day (rates for hours of the UTC day) as the API shows them.';
