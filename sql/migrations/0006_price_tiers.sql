-- Long-context prices: above `threshold_tokens` of input, a tier's prices apply to the whole
-- request (as Anthropic and Google bill). Stored with each price version, as decimal strings:
-- [{"threshold_tokens": 200000, "input": "0.000006", "output": "0.0000225", "cache_read": …, "cache_write": …}]
ALTER TABLE prices ADD COLUMN context_tiers jsonb NOT NULL DEFAULT '[]';
