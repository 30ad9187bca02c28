-- Prices for calls made at certain hours of the UTC day (DeepSeek's off-peak rates, stated by
-- genai-prices as prices with a `start_time`-`end_time` constraint). Stored with each price version
-- as decimal strings, the window from `start` (included) to `end` (excluded), past midnight when
-- the end is before the start; kinds left out keep the base price:
-- [{"start": "16:30", "end": "00:30", "input": "0.000000135", "output": "0.00000055", "cache_read": "0.000000035"}]
-- A call made in a window is priced with its prices, any other call with the base prices; an
-- estimate (made before the call) uses the dearest hour of the day.
ALTER TABLE prices ADD COLUMN times_of_day jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(times_of_day) = 'array');
COMMENT ON COLUMN prices.times_of_day IS 'Prices for calls made within windows of the UTC day: [{"start": "HH:MM", "end": "HH:MM", "input"|"output"|"cache_read"|"cache_write": "decimal"}]; the base prices apply at any other time.';
