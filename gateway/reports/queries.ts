/**
 * The report queries: every figure is computed by SQL over the system of record (alarms, alarm_actions,
 * events, commands), never estimated. Times of day and days are Europe/Warsaw, the centre's clock. Each
 * query returns flat rows whose zod type slonik checks; routes.ts shapes them.
 */
import { sql, type FragmentSqlToken, type ListSqlToken } from 'slonik';
import { z } from 'zod';

export const ZONE = 'Europe/Warsaw';

export interface ReportFilter {
  from: string;
  to: string;
  objectId?: number | undefined;
  category?: string | undefined;
  severity?: string | undefined;
  /** Username of the operator who claimed the alarm (or, for commands, who requested it). */
  operator?: string | undefined;
  /** Test alarms are left out unless asked for (they are hidden from the main feed too). */
  includeTest: boolean;
}

const num = z.number().nullable();

/** Percentiles and mean (seconds) of `expr` over the group; NULLs (a milestone not reached) are left out. */
function stats(name: string, expr: FragmentSqlToken): FragmentSqlToken {
  const id = (s: string) => sql.identifier([`${name}_${s}`]);
  return sql.fragment`
    percentile_cont(0.5) WITHIN GROUP (ORDER BY ${expr})::float8 AS ${id('p50')},
    percentile_cont(0.9) WITHIN GROUP (ORDER BY ${expr})::float8 AS ${id('p90')},
    percentile_cont(0.99) WITHIN GROUP (ORDER BY ${expr})::float8 AS ${id('p99')},
    avg(${expr})::float8 AS ${id('mean')},
    count(${expr})::int AS ${id('n')}`;
}
const statsRow = (name: string) => ({ [`${name}_p50`]: num, [`${name}_p90`]: num, [`${name}_p99`]: num, [`${name}_mean`]: num, [`${name}_n`]: z.number() });

/** The alarms of the range (opened in it), with filters, as `a`. */
function alarmsWhere(f: ReportFilter, alias = 'a'): ListSqlToken {
  const a = sql.identifier([alias]);
  const parts = [sql.fragment`${a}.created_at >= ${f.from}::timestamptz AND ${a}.created_at < ${f.to}::timestamptz`];
  if (!f.includeTest) parts.push(sql.fragment`NOT ${a}.test`);
  if (f.objectId !== undefined) parts.push(sql.fragment`${a}.object_id = ${f.objectId}`);
  if (f.category !== undefined) parts.push(sql.fragment`${a}.category = ${f.category}`);
  if (f.severity !== undefined) parts.push(sql.fragment`${a}.severity = ${f.severity}`);
  return sql.join(parts, sql.fragment` AND `);
}

/** Each alarm of the range with when it was first claimed, acknowledged, resolved and closed, and by whom it was claimed. */
function milestones(f: ReportFilter): FragmentSqlToken {
  const byOperator = f.operator === undefined ? sql.fragment`TRUE` : sql.fragment`u.username = ${f.operator}`;
  return sql.fragment`
    WITH m AS (
      SELECT a.id, a.object_id, a.category, a.severity, a.created_at AS opened,
             min(x.created_at) FILTER (WHERE x.action = 'claim') AS claimed,
             min(x.created_at) FILTER (WHERE x.action = 'ack') AS acknowledged,
             min(x.created_at) FILTER (WHERE x.action = 'resolve') AS resolved,
             min(x.created_at) FILTER (WHERE x.action = 'close') AS closed,
             (array_agg(x.user_id ORDER BY x.id) FILTER (WHERE x.action = 'claim'))[1] AS claimer,
             count(*) FILTER (WHERE x.action = 'takeover')::int AS takeovers
        FROM alarms a LEFT JOIN alarm_actions x ON x.alarm_id = a.id
       WHERE ${alarmsWhere(f)}
       GROUP BY a.id),
    b AS (SELECT m.*, u.username AS operator, o.code AS object_code FROM m LEFT JOIN users u ON u.id = m.claimer JOIN objects o ON o.id = m.object_id
           WHERE ${byOperator})`;
}

const secs = (from: string, to: string) => sql.fragment`extract(epoch FROM ${sql.identifier(['b', to])} - ${sql.identifier(['b', from])})`;

export const RESPONSE_GROUPS = ['severity', 'category', 'operator', 'object', 'hour'] as const;
export type ResponseGroup = (typeof RESPONSE_GROUPS)[number];
const responseKey: Record<ResponseGroup, FragmentSqlToken> = {
  severity: sql.fragment`b.severity`,
  category: sql.fragment`b.category`,
  operator: sql.fragment`COALESCE(b.operator, '(unclaimed)')`,
  object: sql.fragment`b.object_code`,
  hour: sql.fragment`to_char(b.opened AT TIME ZONE ${ZONE}, 'HH24')`,
};
export const MILESTONES = ['claimed', 'acknowledged', 'resolved', 'closed'] as const;

const ResponseRow = z.object({ key: z.string(), count: z.number(), ...Object.assign({}, ...MILESTONES.map(statsRow)) as Record<string, z.ZodTypeAny> });
export type ResponseRowT = z.infer<typeof ResponseRow> & Record<string, number | null | string>;

export function responseTimes(f: ReportFilter, group: ResponseGroup) {
  return sql.type(ResponseRow)`${milestones(f)}
    SELECT ${responseKey[group]} AS key, count(*)::int AS count,
           ${sql.join(MILESTONES.map((ms) => stats(ms, secs('opened', ms))), sql.fragment`,`)}
      FROM b GROUP BY 1 ORDER BY 1`;
}

const Exception = z.object({ alarm_id: z.number(), object: z.string(), category: z.string(), opened_at: z.string(), claimed_at: z.string().nullable(), waited_s: z.number() });

/** CRITICAL alarms of the range not claimed within `deadlineS` (or not at all): the operator-response exceptions. */
export function responseExceptions(f: ReportFilter, deadlineS: number, limit: number) {
  return sql.type(Exception)`${milestones(f)}
    SELECT b.id::float8 AS alarm_id, b.object_code AS object, b.category,
           to_char(b.opened AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS opened_at,
           to_char(b.claimed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS claimed_at,
           extract(epoch FROM COALESCE(b.claimed, LEAST(now(), ${f.to}::timestamptz)) - b.opened)::float8 AS waited_s
      FROM b WHERE b.severity = 'CRITICAL' AND (b.claimed IS NULL OR b.claimed - b.opened > make_interval(secs => ${deadlineS}))
     ORDER BY waited_s DESC, b.id LIMIT ${limit}`;
}

export const ALARM_GROUPS = ['object', 'category', 'day', 'hour'] as const;
export type AlarmGroup = (typeof ALARM_GROUPS)[number];
const alarmKey: Record<AlarmGroup, FragmentSqlToken> = {
  object: sql.fragment`o.code`,
  category: sql.fragment`a.category`,
  day: sql.fragment`to_char(a.created_at AT TIME ZONE ${ZONE}, 'YYYY-MM-DD')`,
  hour: sql.fragment`to_char(a.created_at AT TIME ZONE ${ZONE}, 'HH24')`,
};
const AlarmVolumeRow = z.object({
  key: z.string(), count: z.number(), events: z.number(), flood: z.number(), absorbed: z.number(), test: z.number(), service: z.number(), false_alarms: z.number(),
});

/** Volumes per group: alarms, the events in them, flood alarms and what they absorbed, test and service alarms, false alarms. */
export function alarmVolumes(f: ReportFilter, group: AlarmGroup) {
  const byOperator = f.operator === undefined ? sql.fragment`TRUE` : sql.fragment`u.username = ${f.operator}`;
  return sql.type(AlarmVolumeRow)`
    SELECT ${alarmKey[group]} AS key, count(*)::int AS count, COALESCE(sum(a.event_count), 0)::int AS events,
           count(*) FILTER (WHERE a.flood)::int AS flood, COALESCE(sum(a.event_count) FILTER (WHERE a.flood), 0)::int AS absorbed,
           count(*) FILTER (WHERE a.test)::int AS test, count(*) FILTER (WHERE a.service)::int AS service,
           count(*) FILTER (WHERE a.resolution_code = 'FALSE_ALARM')::int AS false_alarms
      FROM alarms a JOIN objects o ON o.id = a.object_id LEFT JOIN users u ON u.id = a.claimed_by
     WHERE ${alarmsWhere(f)} AND ${byOperator}
     GROUP BY 1 ORDER BY 1`;
}

export const AVAILABILITY_GROUPS = ['panel', 'object'] as const;
export type AvailabilityGroup = (typeof AVAILABILITY_GROUPS)[number];
const AvailabilityRow = z.object({
  key: z.string(), count: z.number(), panels: z.number(), outages: z.number(), down_s: z.number(), longest_s: z.number(), availability_pct: z.number(), supervision_alarms: z.number(),
});

/**
 * Link outages: a LOST (produced once a loss outlasted the supervision time) and its RESTORED share the
 * down-since time in their dedup keys (`link:<panel>:LOST:<ms>`), so an outage runs from that time to the
 * RESTORED, or on to the end of the range (or now). Each is clipped to the range; availability is the share
 * of the range a panel's link was not down. `count` is the outages.
 */
export function availability(f: ReportFilter, group: AvailabilityGroup) {
  const key = group === 'panel' ? sql.fragment`p.id::text || ' ' || p.name` : sql.fragment`o.code`;
  const byObject = f.objectId === undefined ? sql.fragment`TRUE` : sql.fragment`p.object_id = ${f.objectId}`;
  return sql.type(AvailabilityRow)`
    WITH lost AS (
      SELECT panel_id, split_part(dedup_key, ':', 4)::bigint AS down_ms FROM events WHERE source = 'link' AND kind = 'LOST' AND NOT stale),
    up AS (
      SELECT panel_id, split_part(dedup_key, ':', 4)::bigint AS down_ms, min(observed_at) AS up_at FROM events
       WHERE source = 'link' AND kind = 'RESTORED' GROUP BY 1, 2),
    outage AS (
      SELECT l.panel_id,
             GREATEST(to_timestamp(l.down_ms / 1000.0), ${f.from}::timestamptz) AS s,
             LEAST(COALESCE(u.up_at, now()), ${f.to}::timestamptz) AS e
        FROM lost l LEFT JOIN up u USING (panel_id, down_ms)),
    supervision AS (
      SELECT a.panel_id, count(*)::int AS n FROM alarms a WHERE a.source = 'link' AND ${alarmsWhere(f)} GROUP BY 1),
    per_panel AS (
      SELECT p.id, p.name, p.object_id,
             count(x.panel_id) FILTER (WHERE x.e > x.s)::int AS outages,
             COALESCE(sum(extract(epoch FROM x.e - x.s)) FILTER (WHERE x.e > x.s), 0)::float8 AS down_s,
             COALESCE(max(extract(epoch FROM x.e - x.s)) FILTER (WHERE x.e > x.s), 0)::float8 AS longest_s,
             COALESCE(max(sv.n), 0)::int AS supervision_alarms
        FROM panels p LEFT JOIN outage x ON x.panel_id = p.id LEFT JOIN supervision sv ON sv.panel_id = p.id
       WHERE ${byObject}
       GROUP BY p.id)
    SELECT ${key} AS key, sum(outages)::int AS count, count(*)::int AS panels, sum(outages)::int AS outages, sum(down_s)::float8 AS down_s,
           max(longest_s)::float8 AS longest_s,
           (100 * (1 - sum(down_s) / (count(*) * GREATEST(extract(epoch FROM ${f.to}::timestamptz - ${f.from}::timestamptz), 1))))::float8 AS availability_pct,
           sum(supervision_alarms)::int AS supervision_alarms
      FROM per_panel p JOIN objects o ON o.id = p.object_id
     GROUP BY 1 ORDER BY 1`;
}

const OperatorRow = z.object({
  key: z.string(), count: z.number(), closed: z.number(), takeovers: z.number(), ...statsRow('claim'), ...statsRow('close'),
});

/** Per operator (who claimed first): alarms handled, time to claim and to close, and the takeovers they made. */
export function operators(f: ReportFilter) {
  return sql.type(OperatorRow)`${milestones(f)},
    takeovers AS (
      SELECT x.user_id, count(*)::int AS n FROM alarm_actions x JOIN alarms a ON a.id = x.alarm_id
       WHERE x.action = 'takeover' AND ${alarmsWhere(f)} GROUP BY 1)
    SELECT b.operator AS key, count(*)::int AS count, count(b.closed)::int AS closed, COALESCE(max(t.n), 0)::int AS takeovers,
           ${stats('claim', secs('opened', 'claimed'))}, ${stats('close', secs('opened', 'closed'))}
      FROM b LEFT JOIN takeovers t ON t.user_id = b.claimer
     WHERE b.operator IS NOT NULL GROUP BY 1 ORDER BY 1`;
}

export const COMMAND_GROUPS = ['panel', 'user'] as const;
export type CommandGroup = (typeof COMMAND_GROUPS)[number];
const CommandRow = z.object({
  key: z.string(), count: z.number(), succeeded: z.number(), rejected: z.number(), expired: z.number(), failed: z.number(), pending: z.number(),
  refusals: z.array(z.object({ reason: z.string(), count: z.number() })),
});

/** Arm/disarm outcomes per panel or per requesting user, with the reasons of refusals. */
export function commandOutcomes(f: ReportFilter, group: CommandGroup) {
  const key = group === 'panel' ? sql.fragment`p.id::text || ' ' || p.name` : sql.fragment`COALESCE(u.username, '(system)')`;
  const parts = [sql.fragment`c.created_at >= ${f.from}::timestamptz AND c.created_at < ${f.to}::timestamptz`];
  if (f.objectId !== undefined) parts.push(sql.fragment`p.object_id = ${f.objectId}`);
  if (f.operator !== undefined) parts.push(sql.fragment`u.username = ${f.operator}`);
  return sql.type(CommandRow)`
    WITH c AS (
      SELECT ${key} AS key, c.status, c.result_reason
        FROM commands c JOIN panels p ON p.id = c.panel_id LEFT JOIN users u ON u.id = c.requested_by
       WHERE ${sql.join(parts, sql.fragment` AND `)})
    SELECT key, count(*)::int AS count,
           count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded, count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected,
           count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired, count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
           count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
           COALESCE((SELECT jsonb_agg(jsonb_build_object('reason', r.reason, 'count', r.n) ORDER BY r.n DESC, r.reason)
                       FROM (SELECT COALESCE(c2.result_reason, '(none)') AS reason, count(*)::int AS n FROM c c2
                              WHERE c2.key = c.key AND c2.status = 'REJECTED' GROUP BY 1) r), '[]'::jsonb) AS refusals
      FROM c GROUP BY key ORDER BY key`;
}

