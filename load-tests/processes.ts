/**
 * CPU and memory of the processes a run involves, from /proc (Linux): the roles it started (by pid),
 * and the shared services found by name (Kafka, PostgreSQL, Redis, RabbitMQ) — those may also serve
 * other work on the machine, which the report says.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: /proc times are in 1/100 s on Linux. */
const CLK_TCK = 100;
const PAGE_BYTES = 4096;

export interface ProcStat {
  comm: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  rssBytes: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): utime is field 14, stime 15, rss 24.
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const rss = Number(f[21]);
  if (![utime, stime, rss].every(Number.isFinite)) throw new Error(`unexpected /proc stat line: ${text.slice(0, 80)}`);
  return { comm, cpuTicks: utime + stime, rssBytes: rss * PAGE_BYTES };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Names a process by what it runs; undefined for processes a run does not care about. */
export function classify(comm: string, cmd: string): string | undefined {
  if (cmd.includes('kafka.Kafka')) return 'kafka';
  if (comm === 'postgres' || comm.startsWith('postgres:')) return 'postgresql';
  if (comm === 'redis-server') return 'redis';
  if (comm === 'beam.smp') return 'rabbitmq';
  const role = /stam\.mjs (satel-ingest|alarm-processor|outbox-relay|gateway|simulator)\b/.exec(cmd);
  return role ? role[1] : undefined;
}

/** Pids by name of the shared services (and, when `roles` is set, of stam roles found by command line). */
export function findProcesses(opts: { roles: boolean }): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const st = readStat(pid);
    if (!st) continue;
    const name = classify(st.comm, st.comm === 'java' || st.comm === 'node' || st.comm.startsWith('MainThread') ? cmdline(pid) : '');
    if (!name || (!opts.roles && !['kafka', 'postgresql', 'redis', 'rabbitmq'].includes(name))) continue;
    out.set(name, [...(out.get(name) ?? []), pid]);
  }
  return out;
}

export interface ProcSample { cpuPct: number; rssMb: number }

/**
 * CPU % (of one core) and RSS per named group of pids between two calls. A pid that appears between
 * samples counts from its first sight; one that exits drops out.
 */
export function createCpuSampler() {
  let last = new Map<number, { ticks: number; atMs: number }>();
  return {
    sample(groups: Map<string, number[]>): Record<string, ProcSample> {
      const now = Date.now();
      const next = new Map<number, { ticks: number; atMs: number }>();
      const out: Record<string, ProcSample> = {};
      for (const [name, pids] of groups) {
        let pct = 0;
        let rss = 0;
        for (const pid of pids) {
          const st = readStat(pid);
          if (!st) continue;
          next.set(pid, { ticks: st.cpuTicks, atMs: now });
          rss += st.rssBytes;
          const prev = last.get(pid);
          if (prev && now > prev.atMs) pct += (((st.cpuTicks - prev.ticks) / CLK_TCK) * 1000 * 100) / (now - prev.atMs);
        }
        out[name] = { cpuPct: Math.round(pct * 10) / 10, rssMb: Math.round((rss / 1048576) * 10) / 10 };
      }
      last = next;
      return out;
    },
  };
}
