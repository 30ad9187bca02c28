-- Budgets: named containers of limits. A budget is never hard-deleted while usage may refer to
-- its limits; DELETE marks it deleted and inactive.
CREATE TABLE budgets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    owner       text,
    description text,
    timezone    text NOT NULL DEFAULT 'UTC',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- Names are unique among budgets that are not deleted.
CREATE UNIQUE INDEX budgets_name_live ON budgets (lower(name)) WHERE deleted_at IS NULL;

COMMENT ON TABLE budgets IS 'Named containers of limits (Budget service).';
COMMENT ON COLUMN budgets.timezone IS 'IANA zone in which the windows of this budget''s limits start (midnight, Monday, the 1st).';
