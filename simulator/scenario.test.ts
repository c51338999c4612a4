import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Action, ActionParams } from './actions.ts';
import { parseScenario, runScenario, ScenarioError, stepStarts } from './scenario.ts';

const problemsOf = (text: string): string[] => {
  try {
    parseScenario(text);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  throw new Error('scenario was accepted');
};

describe('scenario files', () => {
  it('reads the sample scenarios shipped in simulator/scenarios', async () => {
    for (const name of ['demo', 'burst']) {
      const text = await readFile(new URL(`./scenarios/${name}.yaml`, import.meta.url), 'utf8');
      const s = parseScenario(text);
      expect(s.name).toBe(name);
      expect(s.steps.length).toBeGreaterThan(1);
    }
  });

  it('accepts JSON as well as YAML, and a bare list of steps', () => {
    const s = parseScenario('[{"at_ms": 0, "panel": 1, "action": "violate", "zone": 2}]', 'inline');
    expect(s).toEqual({ name: 'inline', steps: [{ at_ms: 0, panel: 1, action: 'violate', zone: 2 }] });
  });

  it('names the step and the field of each problem', () => {
    const text = `
steps:
  - { at_ms: 0, panel: 1, action: violate }
  - { at_ms: 0, after_ms: 5, panel: 1, action: restore, zone: 1 }
  - { after_ms: 5, panel: 1, action: explode }
  - { at_ms: 0, panel: 1, action: alarm, zone: 1, repeat: 3 }
  - { at_ms: 0, panel: 1, action: alarm, zone: 1, colour: red }
`;
    const problems = problemsOf(text);
    expect(problems).toContain('step 1, zone: action "violate" needs zone');
    expect(problems).toContain('step 2: give exactly one of at_ms or after_ms');
    expect(problems.some((p) => p.startsWith('step 3, action: Invalid enum value'))).toBe(true);
    expect(problems).toContain('step 4, every_ms: repeat > 1 needs every_ms');
    expect(problems.some((p) => p.startsWith('step 5') && p.includes('colour'))).toBe(true);
  });

  it('rejects text that is not YAML, and a document that is not a list of steps', () => {
    expect(problemsOf('steps: [ {')[0]).toMatch(/^not valid YAML\/JSON/);
    expect(problemsOf('42')).toEqual(['expected a list of steps or { name, steps: [...] }']);
  });

  it('measures at_ms from the start and after_ms from the previous step', () => {
    const s = parseScenario(`
- { at_ms: 100, panel: 1, action: violate, zone: 1 }
- { after_ms: 50, panel: 1, action: restore, zone: 1 }
- { at_ms: 10, panel: 1, action: alarm, zone: 1 }
- { after_ms: 5, panel: 1, action: restore, zone: 1 }`);
    expect(stepStarts(s.steps)).toEqual([100, 150, 10, 15]);
  });
});

describe('running a scenario', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs each step at its time, repeats, fans out to all panels, and counts failures', async () => {
    vi.useFakeTimers();
    const calls: Array<[number, Action, ActionParams]> = [];
    const run = runScenario(parseScenario(`
- { at_ms: 0, panel: all, action: violate, zone: 1 }
- { after_ms: 100, panel: [2], action: restore, zone: 1, repeat: 3, every_ms: 50 }
- { at_ms: 500, panel: 1, action: tamper, zone: 99 }`), {
      panelCount: 3,
      perform: (p, a, params) => {
        if (params.zone === 99) throw new Error('zone 99 outside 1..32');
        calls.push([p, a, params]);
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([[1, 'violate', { zone: 1 }], [2, 'violate', { zone: 1 }], [3, 'violate', { zone: 1 }]]);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls.filter(([, a]) => a === 'restore')).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(500);
    await run.done;
    expect(run.stats).toMatchObject({ runs: 6, errors: 1, lastError: 'zone 99 outside 1..32' });
  });

  it('repeats a step with every_ms and no repeat until stopped', async () => {
    vi.useFakeTimers();
    let n = 0;
    const run = runScenario(parseScenario('[{ at_ms: 0, panel: 1, action: violate, zone: 1, every_ms: 1000 }]'), {
      panelCount: 1,
      perform: () => void n++,
    });
    await vi.advanceTimersByTimeAsync(10_500);
    expect(n).toBe(11);
    run.stop();
    await run.done;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(n).toBe(11);
  });

  it('refuses a scenario that names a panel the simulator does not have', () => {
    const s = parseScenario('[{ at_ms: 0, panel: 7, action: violate, zone: 1 }]');
    expect(() => runScenario(s, { panelCount: 3, perform: () => undefined })).toThrow(/step 1, panel: 7 outside 1..3/);
  });
});
