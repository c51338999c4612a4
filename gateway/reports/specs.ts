/**
 * What each report is: its groupings, its query, how a database row becomes a JSON row (`key`, `count` and
 * the figures; durations as `{ p50, p90, p99, mean }` in seconds), its CSV/PDF columns and its chart.
 */
import type { QuerySqlToken } from 'slonik';
import type { ZodTypeAny } from 'zod';
import type { Column } from './format.ts';
import {
  ALARM_GROUPS, AVAILABILITY_GROUPS, COMMAND_GROUPS, MILESTONES, RESPONSE_GROUPS,
  alarmVolumes, availability, commandOutcomes, operators, responseTimes, type ReportFilter,
} from './queries.ts';

export interface Stats { p50: number | null; p90: number | null; p99: number | null; mean: number | null; n: number }
export type JsonRow = { key: string; count: number } & Record<string, unknown>;
type Raw = Record<string, unknown>;

export interface ReportSpec {
  name: string;
  title: string;
  groups: readonly string[];
  query(f: ReportFilter, group: string): QuerySqlToken<ZodTypeAny>;
  toJson(raw: Raw): JsonRow;
  columns: readonly Column<Raw>[];
  chart: { label: string; value: (raw: Raw) => number };
}

const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
const orNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const share = (part: unknown, whole: unknown) => (n(whole) > 0 ? n(part) / n(whole) : 0);
const statsOf = (raw: Raw, name: string): Stats => ({
  p50: orNull(raw[`${name}_p50`]), p90: orNull(raw[`${name}_p90`]), p99: orNull(raw[`${name}_p99`]), mean: orNull(raw[`${name}_mean`]), n: n(raw[`${name}_n`]),
});
const col = (header: string, value: (r: Raw) => string | number | null): Column<Raw> => ({ header, value });
const raw = (field: string) => col(field, (r) => (r[field] as string | number | null) ?? null);
const statCols = (name: string) => ['p50', 'p90', 'p99', 'mean', 'n'].map((s) => raw(`${name}_${s}`));
const key = col('key', (r) => r.key as string);
const count = raw('count');

export const REPORTS: Record<string, ReportSpec> = {
  'response-times': {
    name: 'response-times', title: 'Response times', groups: RESPONSE_GROUPS,
    query: (f, g) => responseTimes(f, g as (typeof RESPONSE_GROUPS)[number]),
    toJson: (r) => ({ key: r.key as string, count: n(r.count), ...Object.fromEntries(MILESTONES.map((ms) => [ms, statsOf(r, ms)])) }),
    columns: [key, count, ...MILESTONES.flatMap(statCols)],
    chart: { label: 'opened → claimed, p90 (s)', value: (r) => n(r.claimed_p90) },
  },
  alarms: {
    name: 'alarms', title: 'Alarm volumes', groups: ALARM_GROUPS,
    query: (f, g) => alarmVolumes(f, g as (typeof ALARM_GROUPS)[number]),
    toJson: (r) => ({
      key: r.key as string, count: n(r.count), events: n(r.events), flood: n(r.flood), flood_share: share(r.flood, r.count), absorbed: n(r.absorbed),
      test: n(r.test), test_share: share(r.test, r.count), service: n(r.service), service_share: share(r.service, r.count),
      false_alarms: n(r.false_alarms), false_alarm_share: share(r.false_alarms, r.count),
    }),
    columns: [key, count, raw('events'), raw('flood'), raw('absorbed'), raw('test'), raw('service'), raw('false_alarms'),
      col('false_alarm_share', (r) => share(r.false_alarms, r.count))],
    chart: { label: 'alarms', value: (r) => n(r.count) },
  },
  availability: {
    name: 'availability', title: 'Panel link availability', groups: AVAILABILITY_GROUPS,
    query: (f, g) => availability(f, g as (typeof AVAILABILITY_GROUPS)[number]),
    toJson: (r) => ({
      key: r.key as string, count: n(r.count), panels: n(r.panels), outages: n(r.outages), down_s: n(r.down_s), longest_s: n(r.longest_s),
      availability_pct: n(r.availability_pct), supervision_alarms: n(r.supervision_alarms),
    }),
    columns: [key, count, raw('panels'), raw('down_s'), raw('longest_s'), raw('availability_pct'), raw('supervision_alarms')],
    chart: { label: 'availability (%)', value: (r) => n(r.availability_pct) },
  },
  operators: {
    name: 'operators', title: 'Operators', groups: ['operator'],
    query: (f) => operators(f),
    toJson: (r) => ({ key: r.key as string, count: n(r.count), closed: n(r.closed), takeovers: n(r.takeovers), claim: statsOf(r, 'claim'), close: statsOf(r, 'close') }),
    columns: [key, count, raw('closed'), raw('takeovers'), ...statCols('claim'), ...statCols('close')],
    chart: { label: 'alarms handled', value: (r) => n(r.count) },
  },
  commands: {
    name: 'commands', title: 'Arm/disarm commands', groups: COMMAND_GROUPS,
    query: (f, g) => commandOutcomes(f, g as (typeof COMMAND_GROUPS)[number]),
    toJson: (r) => ({
      key: r.key as string, count: n(r.count), succeeded: n(r.succeeded), rejected: n(r.rejected), expired: n(r.expired), failed: n(r.failed),
      pending: n(r.pending), refusals: r.refusals,
    }),
    columns: [key, count, raw('succeeded'), raw('rejected'), raw('expired'), raw('failed'), raw('pending'),
      col('refusals', (r) => (r.refusals as { reason: string; count: number }[]).map((x) => `${x.reason} (${x.count})`).join('; '))],
    chart: { label: 'commands', value: (r) => n(r.count) },
  },
};
