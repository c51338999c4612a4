import { describe, expect, it } from 'vitest';
import { listScenarios, loadScenario, MAX_RATE_EPS, parseScenario, planScenario } from './scenario.ts';

describe('scenario files', () => {
  it('ship spec-burst, storm, sustained and operators, each valid', () => {
    expect(listScenarios()).toEqual(expect.arrayContaining(['operators', 'spec-burst', 'storm', 'sustained']));
    for (const name of listScenarios()) expect(loadScenario(name).name).toBe(name);
  });

  it('spec-burst is the specification case: 200 events in one minute, nothing lost or doubled, each under a second', () => {
    const p = planScenario(loadScenario('spec-burst'));
    expect(p).toMatchObject({ events: 200, durationS: 60, targets: { lost: 0, duplicated: 0, max_ms: 1000 } });
  });

  it('storm sends 100,000 events as fast as the simulator can; sustained 2,000/s for 5 minutes over 500 panels', () => {
    expect(planScenario(loadScenario('storm'))).toMatchObject({ events: 100_000, asFastAsPossible: true, rateEps: MAX_RATE_EPS });
    expect(planScenario(loadScenario('sustained'))).toMatchObject({ events: 600_000, rateEps: 2000, durationS: 300, panels: 500 });
    expect(planScenario(loadScenario('operators'))).toMatchObject({ operators: 20, work_queue: true });
  });

  it('names an unknown scenario and lists the known ones', () => {
    expect(() => loadScenario('nope')).toThrow(/no scenario "nope" \(have: .*spec-burst/);
  });

  it('rejects a file with both rate and duration, naming the problem', () => {
    expect(() => parseScenario('name: x\ndescription: d\npanels: 1\nevents: 10\nrate: 5\nduration_s: 2\n')).toThrow(/exactly one of rate or duration_s/);
    expect(() => parseScenario('name: x\ndescription: d\npanels: 0\nevents: 10\nrate: 5\n', 'f.yaml')).toThrow(/f\.yaml: panels/);
  });
});

describe('overrides', () => {
  const file = parseScenario('name: s\ndescription: d\npanels: 10\nevents: 600\nrate: 20\n');

  it('events and duration from the command line give the rate', () => {
    expect(planScenario(file, { events: 1000, durationS: 10 })).toMatchObject({ events: 1000, rateEps: 100, durationS: 10 });
  });
  it('a duration alone keeps the file\'s rate and changes the number of events', () => {
    expect(planScenario(file, { durationS: 5 })).toMatchObject({ events: 100, rateEps: 20, durationS: 5 });
  });
  it('rate and duration give the events', () => {
    expect(planScenario(file, { rate: 50, durationS: 4 })).toMatchObject({ events: 200, rateEps: 50 });
  });
  it('events alone keep the rate; panels, operators and role settings are replaced or added', () => {
    const p = planScenario(file, { events: 40, panels: 3, operators: 7, env: { SATEL_POLL_INTERVAL_MS: '250' } });
    expect(p).toMatchObject({ events: 40, rateEps: 20, durationS: 2, panels: 3, operators: 7, stack_env: { SATEL_POLL_INTERVAL_MS: '250' } });
  });
  it('a duration-defined file keeps its duration when only the events change', () => {
    const burst = parseScenario('name: b\ndescription: d\npanels: 5\nevents: 200\nduration_s: 60\n');
    expect(planScenario(burst, { events: 1000 })).toMatchObject({ events: 1000, durationS: 60 });
  });
});
