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
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ACTIONS, ACTION_NEEDS, type Action, type ActionParams } from './actions.ts';

const int = z.number().int();
const StepSchema = z
  .object({
    at_ms: int.nonnegative().optional(),
    after_ms: int.nonnegative().optional(),
    panel: z.union([int.positive(), z.literal('all'), z.array(int.positive()).nonempty()]),
    action: z.enum(ACTIONS),
    zone: int.positive().optional(),
    partition: int.min(1).max(32).optional(),
    trouble: z.union([z.string().min(1), int.positive()]).optional(),
    output: int.positive().optional(),
    mode: int.min(0).max(3).optional(),
    count: int.positive().optional(),
    ms: int.nonnegative().optional(),
    cmd: int.min(0).max(255).optional(),
    repeat: int.positive().optional(),
    every_ms: int.positive().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.at_ms === undefined) === (s.after_ms === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of at_ms or after_ms' });
    }
    const needs = ACTION_NEEDS[s.action];
    if (needs !== undefined && s[needs] === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [needs], message: `action "${s.action}" needs ${needs}` });
    }
    if (s.repeat !== undefined && s.repeat > 1 && s.every_ms === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['every_ms'], message: 'repeat > 1 needs every_ms' });
    }
  });

const ScenarioSchema = z.object({ name: z.string().optional(), steps: z.array(StepSchema).nonempty() }).strict();

export type ScenarioStep = z.infer<typeof StepSchema>;
export type Scenario = { name: string; steps: ScenarioStep[] };

export class ScenarioError extends Error {
  readonly statusCode = 400;
  constructor(readonly problems: string[]) {
    super(`invalid scenario: ${problems.join('; ')}`);
    this.name = 'ScenarioError';
  }
}

function describePath(path: Array<string | number>): string {
  // ['steps', 2, 'zone'] or [2, 'zone'] → "step 3, zone"
  const i = path.findIndex((p) => typeof p === 'number');
  if (i < 0) return path.join('.') || 'scenario';
  const rest = path.slice(i + 1).join('.');
  return `step ${(path[i] as number) + 1}${rest ? `, ${rest}` : ''}`;
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
  const parsed = ScenarioSchema.safeParse(normalized);
  if (!parsed.success) {
    throw new ScenarioError([...new Set(parsed.error.issues.map((iss) => `${describePath(iss.path)}: ${iss.message}`))]);
  }
  return { name: parsed.data.name ?? name, steps: parsed.data.steps };
}

export type ScenarioRun = {
  readonly name: string;
  readonly stats: { runs: number; errors: number; lastError?: string };
  /** Resolves when every finite step has run (never, while a step repeats forever, until stop()). */
  readonly done: Promise<void>;
  stop(): void;
};

export type ScenarioTarget = {
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
