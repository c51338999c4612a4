/**
 * Scenario files: a timed list of actions on panels, written in YAML or JSON, validated with errors that
 * name the step and the field, and run with timers by the simulator.
 *
 * ```yaml
 * name: demo
 * steps:
 *   - { at_ms: 0, panel: 1, action: violate, zone: 3, every_ms: 20000 }
 *   - { after_ms: 5000, panel: 1, action: restore, zone: 3, every_ms: 20000 }
 * ```
 * `at_ms` is measured from the scenario start, `after_ms` from the previous step's first run. `repeat` is
 * the number of runs (needs `every_ms`); `every_ms` without `repeat` repeats until the scenario is stopped.
 * `panel` is a number, a list of numbers or `all`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { issuesOf, type Issue } from '../platform/validate.ts';
import { ACTIONS, ACTION_NEEDS, type Action, type ActionParams } from './actions.ts';

const Int = (options: { minimum?: number; maximum?: number } = {}) => Type.Integer(options);
const Count = Type.Optional(Int({ minimum: 1 }));
const StepSchema = Type.Object({
  at_ms: Type.Optional(Int({ minimum: 0 })),
  after_ms: Type.Optional(Int({ minimum: 0 })),
  panel: Type.Union([Int({ minimum: 1 }), Type.Literal('all'), Type.Array(Int({ minimum: 1 }), { minItems: 1 })],
    { description: 'a panel number, a list of panel numbers or "all"' }),
  action: Type.Union(ACTIONS.map((a) => Type.Literal(a))),
  zone: Count,
  partition: Type.Optional(Int({ minimum: 1, maximum: 32 })),
  trouble: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Int({ minimum: 1 })], { description: 'a trouble name or number' })),
  output: Count,
  mode: Type.Optional(Int({ minimum: 0, maximum: 3 })),
  count: Count,
  ms: Type.Optional(Int({ minimum: 0 })),
  cmd: Type.Optional(Int({ minimum: 0, maximum: 255 })),
  repeat: Count,
  every_ms: Count,
}, { additionalProperties: false });

/** The document around the steps; each step is checked on its own, so that problems name the step. */
const ScenarioSchema = Type.Object({ name: Type.Optional(Type.String()), steps: Type.Array(Type.Unknown(), { minItems: 1 }) }, { additionalProperties: false });

type ScenarioStep = Static<typeof StepSchema>;
export type Scenario = { name: string; steps: ScenarioStep[] };

export class ScenarioError extends Error {
  readonly statusCode = 400;
  constructor(readonly problems: string[]) {
    super(`invalid scenario: ${problems.join('; ')}`);
    this.name = 'ScenarioError';
  }
}

/** Parses YAML or JSON text (YAML accepts both) into a validated scenario. */
export function parseScenario(text: string, name = 'scenario'): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ScenarioError([`not valid YAML/JSON: ${(err as Error).message.split('\n')[0] ?? ''}`]);
  }
  return validateScenario(doc, name);
}

export function validateScenario(doc: unknown, name = 'scenario'): Scenario {
  // A bare list is the steps of an unnamed scenario.
  const normalized = Array.isArray(doc) ? { steps: doc } : doc;
  if (normalized === null || typeof normalized !== 'object') throw new ScenarioError(['expected a list of steps or { name, steps: [...] }']);
  const problems = issuesOf(ScenarioSchema, normalized, 20).map((i) => `${i.path || 'scenario'}: ${i.message}`);
  const { steps } = normalized as { steps?: unknown };
  if (Array.isArray(steps)) steps.forEach((step, i) => problems.push(...stepProblems(step).map((p) => `step ${i + 1}${p}`)));
  if (problems.length > 0) throw new ScenarioError([...new Set(problems)]);
  const s = normalized as { name?: string; steps: ScenarioStep[] };
  return { name: s.name ?? name, steps: s.steps };
}

/** The problems of one step, each as ", field: message" or ": message" (the caller puts "step N" in front). */
function stepProblems(step: unknown): string[] {
  const issues = issuesOf(StepSchema, step, 20);
  const out = issues.map((i) => `${i.path ? `, ${i.path}` : ''}: ${describeIssue(i, step)}`);
  // The rules between fields apply to a step whose fields are each valid (unknown fields aside).
  if (issues.some((i) => i.message !== UNKNOWN_FIELD)) return out;
  const s = step as ScenarioStep;
  if ((s.at_ms === undefined) === (s.after_ms === undefined)) out.push(': give exactly one of at_ms or after_ms');
  const needs = ACTION_NEEDS[s.action];
  if (needs !== undefined && s[needs] === undefined) out.push(`, ${needs}: action "${s.action}" needs ${needs}`);
  if (s.repeat !== undefined && s.repeat > 1 && s.every_ms === undefined) out.push(', every_ms: repeat > 1 needs every_ms');
  return out;
}

const UNKNOWN_FIELD = 'unknown field';

/** An unknown action is named with the list of known ones. */
function describeIssue(issue: Issue, step: unknown): string {
  const action = (step as { action?: unknown }).action;
  if (issue.path !== 'action' || action === undefined) return issue.message;
  return `Invalid enum value ${JSON.stringify(action)}: expected one of ${ACTIONS.join(', ')}`;
}

export type ScenarioRun = {
  readonly name: string;
  readonly stats: { runs: number; errors: number; lastError?: string };
  /** Resolves when every finite step has run (never, while a step repeats forever, until stop()). */
  readonly done: Promise<void>;
  stop(): void;
};

type ScenarioTarget = {
  panelCount: number;
  perform(panel: number, action: Action, params: ActionParams): void;
};

/** When each step first runs, in ms from the start. */
export function stepStarts(steps: readonly ScenarioStep[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const s of steps) {
    prev = s.at_ms ?? prev + (s.after_ms ?? 0);
    out.push(prev);
  }
  return out;
}

export function runScenario(scenario: Scenario, target: ScenarioTarget): ScenarioRun {
  const problems: string[] = [];
  scenario.steps.forEach((s, i) => {
    const panels = Array.isArray(s.panel) ? s.panel : s.panel === 'all' ? [] : [s.panel];
    const bad = panels.filter((p) => p > target.panelCount);
    if (bad.length > 0) problems.push(`step ${i + 1}, panel: ${bad.join(', ')} outside 1..${target.panelCount}`);
  });
  if (problems.length > 0) throw new ScenarioError(problems);

  const timers = new Set<NodeJS.Timeout>();
  const stats: ScenarioRun['stats'] = { runs: 0, errors: 0 };
  let pending = 0;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const finishOne = (): void => {
    pending--;
    if (pending === 0) resolveDone();
  };

  const fire = (s: ScenarioStep): void => {
    const panels = s.panel === 'all' ? Array.from({ length: target.panelCount }, (_, i) => i + 1) : Array.isArray(s.panel) ? s.panel : [s.panel];
    const params: ActionParams = {};
    for (const k of ['zone', 'partition', 'trouble', 'output', 'mode', 'count', 'ms', 'cmd'] as const) {
      if (s[k] !== undefined) (params as Record<string, unknown>)[k] = s[k];
    }
    for (const p of panels) {
      try {
        target.perform(p, s.action, params);
        stats.runs++;
      } catch (err) {
        stats.errors++;
        stats.lastError = (err as Error).message;
      }
    }
  };

  const starts = stepStarts(scenario.steps);
  scenario.steps.forEach((s, i) => {
    const total = s.repeat ?? (s.every_ms === undefined ? 1 : Infinity);
    if (Number.isFinite(total)) pending++;
    let runs = 0;
    const once = (): boolean => {
      if (stopped) return false;
      fire(s);
      runs++;
      if (runs >= total) {
        finishOne();
        return false;
      }
      return true;
    };
    const first = setTimeout(() => {
      timers.delete(first);
      if (!once() || s.every_ms === undefined) return;
      const every = setInterval(() => {
        if (!once()) {
          clearInterval(every);
          timers.delete(every);
        }
      }, s.every_ms);
      timers.add(every);
    }, starts[i]);
    timers.add(first);
  });

  return {
    name: scenario.name,
    stats,
    done,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      resolveDone();
    },
  };
}
