/**
 * `stam load --scenario <name> [--panels N --rate R --duration D --events E --operators K] --report <dir>`
 * (self-contained), or `--target <gateway-url> [--control <simulator-control-url>]` to drive a running
 * system. Exit code 0 when every target of the scenario was met, 1 when not, 2 when the run failed.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runLoad, type LoadOptions } from './run.ts';
import { listScenarios } from './scenario.ts';

const positive = (name: string, integer: boolean) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new InvalidArgumentError(`${name} must be a positive ${integer ? 'whole ' : ''}number`);
  return n;
};

/** The flags as commander parses them: the run options they pass straight through, plus the scenario overrides. */
export type LoadFlags = Pick<LoadOptions, 'scenario' | 'target' | 'control' | 'databaseUrl' | 'username' | 'password' | 'baselineRecords' | 'panelLogSize'> & {
  panels?: number;
  rate?: string;
  duration?: number;
  events?: number;
  operators?: number;
  report?: string;
  set?: string[];
  keep: boolean;
};

function settings(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(p);
    if (!m) throw new Error(`--set takes KEY=VALUE, got "${p}"`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function loadCommand(): Command {
  return new Command('load')
    .description(`load test: simulator-driven events measured from panel to operator screen, beside the raw broker (scenarios: ${listScenarios().join(', ')})`)
    .requiredOption('--scenario <name>', 'a scenario of load-tests/scenarios/, or a path to a scenario file')
    .option('--panels <n>', 'simulated panels', positive('--panels', true))
    .option('--rate <eps>', 'events per second, or "max"')
    .option('--duration <s>', 'seconds of generation', positive('--duration', false))
    .option('--events <n>', 'events to generate', positive('--events', true))
    .option('--operators <k>', 'WebSocket operator clients (they work the queue in the operators scenario)', positive('--operators', true))
    .option('--report <dir>', 'where report.json, report.html and summary.txt go (default load-tests/reports/<scenario>-<time>)')
    .option('--target <gateway-url>', 'drive a running system instead of starting one')
    .option('--control <url>', 'with --target: the simulator control API (default 127.0.0.1:SIMULATOR_CONTROL_PORT)')
    .option('--database-url <url>', 'with --target: its PostgreSQL, for per-stage latency, lag and backlog (default DATABASE_URL)')
    .option('--username <u>', 'with --target: an operator account (default .data/demo-credentials.json)')
    .addOption(new Option('--password <p>', 'with --target: its password').env('STAM_LOAD_PASSWORD'))
    .option('--baseline-records <n>', 'records for the raw broker baseline (0 skips it)', (v) => Number(v))
    .option('--panel-log-size <n>', 'event-log records each simulated panel keeps (default 6000)', positive('--panel-log-size', true))
    .option('--set <KEY=VALUE...>', 'a setting of the started roles (environment variable), e.g. SATEL_POLL_INTERVAL_MS=500')
    .option('--keep', 'keep the run\'s database, topics and Redis keys for inspection', false)
    .action(async (f: LoadFlags) => {
      try {
        if (f.rate !== undefined && f.rate !== 'max' && !(Number(f.rate) > 0)) throw new Error('--rate must be a positive number or "max"');
        const { report } = await runLoad({
          scenario: f.scenario, interactive: true, keep: f.keep,
          overrides: {
            ...(f.panels !== undefined ? { panels: f.panels } : {}), ...(f.events !== undefined ? { events: f.events } : {}),
            ...(f.duration !== undefined ? { durationS: f.duration } : {}), ...(f.operators !== undefined ? { operators: f.operators } : {}),
            ...(f.rate !== undefined ? { rate: f.rate === 'max' ? 'max' : Number(f.rate) } : {}), env: settings(f.set),
          },
          ...(f.report !== undefined ? { reportDir: f.report } : {}), ...(f.target !== undefined ? { target: f.target } : {}),
          ...(f.control !== undefined ? { control: f.control } : {}), ...(f.databaseUrl !== undefined ? { databaseUrl: f.databaseUrl } : {}),
          ...(f.username !== undefined ? { username: f.username } : {}), ...(f.password !== undefined ? { password: f.password } : {}),
          ...(f.baselineRecords !== undefined ? { baselineRecords: f.baselineRecords } : {}), ...(f.panelLogSize !== undefined ? { panelLogSize: f.panelLogSize } : {}),
          command: `npx stam ${process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`,
        });
        process.exitCode = report.verdict.pass ? 0 : 1;
      } catch (err) {
        process.stderr.write(`stam load: ${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 2;
      }
    });
}
