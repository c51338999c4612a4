import { createWriteStream, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createPool, ensureDatabase, migrate, type Pool } from '../platform/index.ts';
import {
  actualAlarms, compare, htmlReport, loadRules, objectCodes, readWhatIfFile, runReplay, table, type ReplayMode, type ReplayResult, type WhatIfPolicy,
} from '../processors/index.ts';
import { roleContext } from './context.ts';

interface ReplayFlags { from: number; to: number; whatIf?: string; into?: string; export?: 'jsonl' | 'csv'; out?: string; json?: string; html?: string; progress: boolean }

const instant = (name: string) => (v: string) => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`${name} must be an ISO 8601 instant, e.g. 2026-11-01T00:00:00+01:00`);
  return t;
};

/** A progress bar on stderr: redrawn in place on a terminal, a line every 5 s otherwise. */
function progress(enabled: boolean) {
  const t0 = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    if (!enabled) return;
    const s = (Date.now() - t0) / 1000;
    const eps = done / Math.max(s, 0.001);
    const eta = eps > 0 ? Math.round((total - done) / eps) : 0;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const bar = `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}] ${String(Math.round(frac * 100)).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} events  ${Math.round(eps).toLocaleString('en-US')} ev/s  ETA ${eta}s`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${bar}`);
    else if (Date.now() - last >= 5_000 || done >= total) { process.stderr.write(`${bar}\n`); last = Date.now(); }
  };
}

function header(r: ReplayResult): string {
  return [`replay ${r.from} … ${r.to}: ${r.applied} events in ${r.seconds.toFixed(1)} s (${Math.round(r.eventsPerSecond)} events/s)`,
    ...r.notes.map((n) => `note: ${n}`), ...(r.bad.length > 0 ? [`${r.bad.length} message(s) did not decode (first: ${r.bad[0]!.code} ${r.bad[0]!.reason})`] : [])].join('\n');
}

async function run(o: ReplayFlags): Promise<void> {
  const ctx = roleContext('replay');
  const { config, log } = ctx;
  // Configuration, and what really happened, are read from the replica when there is one: a month of analysis stays off the primary.
  const source: Pool = config.DATABASE_REPLICA_URL ? createPool(config.DATABASE_REPLICA_URL, { max: 2, applicationName: 'stam-replay' }) : ctx.pool();
  let target: Pool | undefined;
  try {
    const current: WhatIfPolicy = {
      rules: await loadRules(source), bundlingWindowMs: config.BUNDLING_WINDOW_S * 1000,
      flood: { threshold: config.FLOOD_THRESHOLD, windowMs: config.FLOOD_WINDOW_S * 1000 },
    };
    const whatIf = o.whatIf ? readWhatIfFile(o.whatIf, current) : { policy: current, rulesFrom: 'the alarm_rules table' };
    let mode: ReplayMode;
    if (o.into) {
      await ensureDatabase(o.into);
      await migrate(o.into, log);
      target = createPool(o.into, { max: 4, applicationName: 'stam-replay-into' });
      mode = { kind: 'into', target, policy: whatIf.policy };
    } else if (o.export) {
      mode = { kind: 'export', format: o.export, out: o.out ? createWriteStream(o.out) : process.stdout };
    } else {
      mode = { kind: 'what-if', policy: whatIf.policy };
    }
    const result = await runReplay({
      kafka: ctx.kafka(), log, topicPrefix: config.KAFKA_TOPIC_PREFIX, sms: config.FEATURE_SMS_ENABLED, source,
      fromMs: o.from, toMs: o.to, mode, progress: progress(o.progress && (mode.kind !== 'export' || o.out !== undefined)),
    });
    if (mode.kind === 'export') {
      if (o.out) await new Promise<void>((resolve) => mode.out.end(resolve));
      process.stderr.write(`\n${header(result)}; ${result.exported} exported\n`);
      return;
    }
    const settings = {
      range: `${result.from} … ${result.to}`, bundling_window_s: whatIf.policy.bundlingWindowMs / 1000,
      flood: `${whatIf.policy.flood.threshold} alarms / ${whatIf.policy.flood.windowMs / 1000} s`, rules: whatIf.rulesFrom,
    };
    const actual = await actualAlarms(source, o.from, o.to);
    const rebuilt = target ? await actualAlarms(target, o.from, o.to) : undefined;
    const names = await objectCodes(source);
    const label = (id: string) => names.get(Number(id)) ?? `object ${id}`;
    const comparison = compare(actual, rebuilt ?? result.whatIf!, label);
    if (o.json) {
      const doc = JSON.stringify({ settings, result, actual, ...(rebuilt ? { rebuilt } : {}), comparison }, null, 2);
      if (o.json === '-') process.stdout.write(`${doc}\n`); else writeFileSync(o.json, doc);
    }
    if (o.html) writeFileSync(o.html, htmlReport({ title: `${rebuilt ? 'Rebuild' : 'What-if'}: ${settings.range}`, settings, notes: result.notes, comparison, whatIf: result.whatIf }));
    if (o.json !== '-') {
      process.stderr.write('\n');
      const what = rebuilt ? 'rebuilt' : 'what-if';
      process.stdout.write(`${header(result)}\n${Object.entries(settings).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n\n`
        + `${table(`totals (actual = the pipeline, ${what} = ${rebuilt ? 'the rebuilt database' : 'these settings'})`, comparison.totals)}\n\n`
        + `${table('per category', comparison.byCategory)}\n\n${table('per object, largest differences first', comparison.byObject, 20)}\n`);
    }
  } finally {
    await target?.end();
    if (source !== ctx.pool()) await source.end();
    await ctx.close();
  }
}

/** `stam replay`: the event topics between two instants, as a what-if, a rebuild or an export. */
export function replayCommand(): Command {
  return new Command('replay')
    .description('replay the event topics between two instants (no live consumer group is touched): what the alarm rules make of them next to what really happened, '
      + 'a what-if of other settings, a rebuild into an empty database, or an export')
    .requiredOption('--from <instant>', 'start (ISO 8601)', instant('--from'))
    .requiredOption('--to <instant>', 'end, exclusive (ISO 8601)', instant('--to'))
    .option('--what-if <file>', 'YAML: bundling_window_s, flood_threshold, flood_window_s, rules_file (what it leaves out is as configured now)')
    .option('--into <database-url>', 'rebuild events and alarms into this empty database (created and migrated when missing)')
    .option('--export <format>', 'write the decoded events: jsonl or csv', (v) => {
      if (v !== 'jsonl' && v !== 'csv') throw new InvalidArgumentError('--export is jsonl or csv');
      return v;
    })
    .option('--out <file>', 'with --export: the file (default standard output)')
    .option('--json <file>', 'the result as JSON (- for standard output)')
    .option('--html <file>', 'an HTML report with charts')
    .option('--no-progress', 'no progress bar')
    .action(async (o: ReplayFlags) => {
      try {
        await run(o);
      } catch (err) {
        process.stderr.write(`stam replay: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
