-- Admin aliases also name callers' models: engines cache them with the catalog, so a change to
-- model_aliases moves the catalog generation like budgets, limits and prices do.
CREATE TRIGGER model_aliases_bump_catalog AFTER INSERT OR UPDATE OR DELETE ON model_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_generation();
