import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/**
 * `stam <role>` as a real child process with its JSON log captured: how tests and benchmarks run the
 * roles exactly as production does, and wait for what they log.
 */

const bin = fileURLToPath(new URL('../bin/stam.mjs', import.meta.url));

export interface RoleProcess {
  role: string;
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line (JSON) for which `match` is true, seen before or after the call. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM (drain) by default; resolves with the exit code/signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `stam <role>` as a real child process with the given environment, capturing its JSON log. */
export function startRole(role: string, env: Record<string, string>, args: string[] = []): RoleProcess {
  const proc = spawn(process.execPath, [bin, role, ...args], { env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const onLine = (line: string) => {
    let parsed: Record<string, unknown>;
    try { parsed = JSON.parse(line) as Record<string, unknown>; } catch { parsed = { msg: line, raw: true }; }
    lines.push(parsed);
    if (process.env.TEST_ROLE_LOGS) process.stderr.write(`${role} | ${line}\n`);
    for (const w of [...waiters]) if (w.match(parsed)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(parsed); }
  };
  createInterface({ input: proc.stdout }).on('line', onLine);
  createInterface({ input: proc.stderr }).on('line', onLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const self: RoleProcess = {
    role, proc, lines, exited,
    waitForLog(match, timeoutMs = 60_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${role}: no matching log line within ${timeoutMs} ms; last lines:\n${logTail(self)}`)), timeoutMs);
        waiters.push({ match, resolve: (l) => { clearTimeout(t); resolve(l); } });
        void exited.then(({ code, signal }) => { clearTimeout(t); reject(new Error(`${role} exited (${code ?? signal}) before the expected log line; last lines:\n${logTail(self)}`)); });
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  return self;
}

/** The last `n` log lines of a role, one JSON object per line: what a failed assertion should show. */
export function logTail(r: RoleProcess, n = 15): string {
  return r.lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
}

/** `role: exit code`, with the role's last log lines when it did not exit 0 (for assertions on a drain). */
export function exitReport(r: RoleProcess, exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.code === 0 ? `${r.role}: 0` : `${r.role}: ${exit.code ?? exit.signal}\n${logTail(r)}`;
}

export const msgIs = (text: string) => (l: Record<string, unknown>) => l.msg === text;
