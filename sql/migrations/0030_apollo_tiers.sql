-- Apollo's tier tables set at run time (Apollo's set_model_tier, set_component_tier and
-- set_provider_tier; /api/v1/compat/apollo/tiers). A row overrides Apollo's default entry for a
-- name, or adds one; the defaults themselves live in the code (ApolloTierResolver), so deleting a
-- row restores the default. Names are stored as the resolver looks them up: models and providers
-- trimmed and lower-cased, components exactly as given.
CREATE TABLE apollo_tiers (
    kind        text NOT NULL CHECK (kind IN ('model', 'component', 'provider')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    tier        text NOT NULL CHECK (tier IN ('local_lightweight', 'local_midweight', 'remote_heavyweight')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name),
    CHECK (kind = 'component' OR name = lower(btrim(name)))
);
COMMENT ON TABLE apollo_tiers IS 'Apollo tier table entries set at run time, over Apollo''s defaults (Apollo compatibility).';
