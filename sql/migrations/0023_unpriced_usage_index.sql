-- The unpriced part of the ledger, found without reading the rest.
--
-- `budget serve` prices unpriced usage by itself once its model has a price (after any change of
-- the catalog: a price set by hand, a sync, an alias). That pass asks which models unpriced rows
-- name, then reads the rows of each model that now has a price, oldest first. This partial index
-- holds only unpriced rows, so both reads cost what there is to price, not the size of the ledger;
-- rows leave it when they are priced. (Created on every monthly partition, present and future.)
-- The comment of report.unpriced_usage says who prices what it lists now.
CREATE INDEX usage_records_unpriced ON usage_records (provider, model, occurred_at, id) WHERE pricing_status = 'unpriced';

COMMENT ON VIEW report.unpriced_usage IS 'Provider/model pairs with usage whose cost is unknown (pricing_status unpriced): how many rows, when; current_price_id set means they can be priced now (a running `budget serve` does so by itself; `budget reprice` without a server).';
