/**
 * Load scenarios as files (`load-tests/scenarios/<name>.yaml`): how many panels and zones the generator
 * uses, how many events at what rate, how many operator clients watch (and whether they work the queue),
 * and the targets of DESIGN.md §5 the run is judged against. Command-line flags override the file.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Type, type Static } from '@sinclair/typebox';
import { StamError } from '../platform/errors.ts';
import { parseValue } from '../platform/validate.ts';

export const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

/** The simulator's rate generator accepts at most this; `rate: max` asks for it ("as fast as it can"). */
export const MAX_RATE_EPS = 1_000_000;

const int = (o: { minimum?: number; maximum?: number; default?: number } = {}) => Type.Integer(o);
const positive = (o: { maximum?: number; default?: number } = {}) => Type.Number({ exclusiveMinimum: 0, ...o });

const TargetsSchema = Type.Object({
  /** End-to-end (panel → operator screen) latency bounds, ms. */
  p95_ms: Type.Optional(positive()),
  p99_ms: Type.Optional(positive()),
  max_ms: Type.Optional(positive()),
  lost: Type.Optional(int({ minimum: 0 })),
  duplicated: Type.Optional(int({ minimum: 0 })),
  /** Pipeline throughput over the run, events/s. */
  throughput_eps: Type.Optional(positive()),
  /** Operator API latencies (p95, ms). */
  list_p95_ms: Type.Optional(positive()),
  claim_p95_ms: Type.Optional(positive()),
}, { additionalProperties: false });

export const ScenarioSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9-]+$' }),
  description: Type.String(),
  /** Simulated panels (each one object); the generator spreads events over them round-robin. */
  panels: int({ minimum: 1, maximum: 5_000 }),
  /** Zones per panel the generator toggles (1..n). */
  zones: int({ minimum: 1, maximum: 128, default: 8 }),
  events: int({ minimum: 1, maximum: 10_000_000 }),
  /** Events per second, or `max`; give this or duration_s. */
  rate: Type.Optional(Type.Union([positive({ maximum: MAX_RATE_EPS }), Type.Literal('max')], { description: `events per second up to ${MAX_RATE_EPS}, or max` })),
  duration_s: Type.Optional(positive()),
  /** WebSocket operator clients that record every arrival. */
  operators: int({ minimum: 1, maximum: 200, default: 2 }),
  /** Operators also work the queue: claim, acknowledge, resolve, close. */
  work_queue: Type.Boolean({ default: false }),
  /** Pause between one operator's actions, ms. */
  think_ms: int({ minimum: 0, default: 1_000 }),
  /** After the generator stops: wait until nothing moved for quiet_s, at most drain_timeout_s. */
  quiet_s: positive({ default: 5 }),
  drain_timeout_s: positive({ default: 120 }),
  /** Records for the raw broker baseline (ProducerPerformance/ConsumerPerformance); 0 skips it. */
  baseline_records: int({ minimum: 0, default: 200_000 }),
  /** Settings for the roles of a self-contained run (environment variables). */
  stack_env: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'a string, number or boolean' }), { default: {} }),
  targets: Type.Object(TargetsSchema.properties, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

type ParsedScenario = Static<typeof ScenarioSchema>;
export type ScenarioFile = Omit<ParsedScenario, 'stack_env'> & { stack_env: Record<string, string> };
export type Targets = Static<typeof TargetsSchema>;

/** Command-line overrides (`--panels --rate --duration --events --operators`). */
export interface Overrides {
  panels?: number;
  rate?: number | 'max';
  durationS?: number;
  events?: number;
  operators?: number;
  /** Role settings added to the scenario's stack_env (`--set KEY=VALUE`). */
  env?: Record<string, string>;
}

/** A scenario with its overrides applied and rate/duration/events made consistent. */
export interface Plan extends Omit<ScenarioFile, 'rate' | 'duration_s'> {
  /** Events per second asked of the generator (MAX_RATE_EPS for `max`). */
  rateEps: number;
  asFastAsPossible: boolean;
  durationS: number;
}

export function listScenarios(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/** Reads `<dir>/<name>.yaml`, or a path to a YAML file; errors name the file and the field. */
export function loadScenario(nameOrPath: string, dir = SCENARIO_DIR): ScenarioFile {
  const path = nameOrPath.endsWith('.yaml') || nameOrPath.includes('/') ? nameOrPath : `${dir}${nameOrPath}.yaml`;
  if (!existsSync(path)) throw new Error(`no scenario "${nameOrPath}" (have: ${listScenarios(dir).join(', ')})`);
  return parseScenario(readFileSync(path, 'utf8'), path);
}

export function parseScenario(text: string, where = 'scenario'): ScenarioFile {
  const s = parseValue(ScenarioSchema, parseYaml(text), { where });
  if ((s.rate === undefined) === (s.duration_s === undefined)) throw new StamError('E_VALIDATION', `${where}: give exactly one of rate or duration_s`);
  return { ...s, stack_env: Object.fromEntries(Object.entries(s.stack_env).map(([k, v]) => [k, String(v)])) };
}

/**
 * Applies overrides. Of events, rate and duration the ones given on the command line win and the third
 * follows: events and duration give the rate; rate and duration give the events; otherwise the file's
 * events stay and the duration follows from the rate.
 */
export function planScenario(s: ScenarioFile, o: Overrides = {}): Plan {
  const { rate: fileRate, duration_s: fileDuration, ...rest } = s;
  let events = o.events ?? s.events;
  let rate: number | 'max' | undefined = o.rate;
  if (rate === undefined && o.durationS !== undefined) {
    if (o.events !== undefined || fileRate === undefined || fileRate === 'max') rate = events / o.durationS;
    else events = Math.round(fileRate * o.durationS);
  }
  if (rate !== undefined && o.durationS !== undefined && o.events === undefined && rate !== 'max') events = Math.round(rate * o.durationS);
  rate ??= fileRate ?? events / fileDuration!;
  const asFastAsPossible = rate === 'max';
  const rateEps = rate === 'max' ? MAX_RATE_EPS : rate;
  if (rateEps > MAX_RATE_EPS) throw new Error(`rate ${rateEps} above the generator's maximum ${MAX_RATE_EPS}`);
  if (events < 1) throw new Error('a run needs at least one event');
  return {
    ...rest, events, rateEps, asFastAsPossible, durationS: Math.round((events / rateEps) * 1e6) / 1e6,
    panels: o.panels ?? s.panels, operators: o.operators ?? s.operators, stack_env: { ...s.stack_env, ...o.env },
  };
}
