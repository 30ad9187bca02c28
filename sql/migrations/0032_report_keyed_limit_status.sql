-- report.keyed_limit_status: the per_session and per_task windows of every current limit of
-- active budgets, one row per session or task the limit has counted (report.limit_status has the
-- time windows). A keyed window has a counter row from its first reservation or usage on, so
-- the counter is the whole truth: spent (committed usage), reserved (open allocations),
-- remaining and state as report.limit_status computes them.
CREATE VIEW report.keyed_limit_status AS
SELECT b.id AS budget_id, b.name AS budget_name, l.id AS limit_id, l.version AS limit_version,
       l.component, l.provider, l.model, l.task_type, l.tier, l.tag,
       l.period, l.metric, l.policy, l.amount, l.warn_at,
       CASE l.period WHEN 'per_session' THEN 'session' ELSE 'task' END AS key_kind,
       substr(lw.window_key, strpos(lw.window_key, ':') + 1) AS key,
       lw.spent, lw.reserved, l.amount - lw.spent - lw.reserved AS remaining,
       CASE WHEN lw.spent > l.amount THEN 'exceeded'
            WHEN l.amount > 0 AND lw.spent >= l.amount * l.warn_at THEN 'warning'
            WHEN l.amount = 0 AND lw.spent > 0 THEN 'exceeded'
            ELSE 'ok' END AS state
FROM public.limits l
JOIN public.budgets b ON b.id = l.budget_id
JOIN public.limit_windows lw ON lw.limit_id = l.id
WHERE l.valid_to IS NULL AND b.deleted_at IS NULL AND b.active
  AND l.period IN ('per_session', 'per_task');
COMMENT ON VIEW report.keyed_limit_status IS 'The per_session/per_task windows of every current limit of active budgets, one row per session or task counted: spent, reserved, remaining and state (ok, warning, exceeded).';
