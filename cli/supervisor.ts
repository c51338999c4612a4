import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { backoffMs, type Logger } from '../platform/index.ts';

const bin = fileURLToPath(new URL('../bin/stam.mjs', import.meta.url));

export interface ChildSpec { role: string; args?: string[]; env?: Record<string, string> }

/**
 * Runs roles as child processes with one readable combined log, and restarts a role that dies with
 * backoff (as a production restart policy would), logging why it died. SIGTERM stops them all.
 */
export function createSupervisor(opts: { log: Logger; pretty: boolean; env?: Record<string, string> }) {
  const { log } = opts;
  const pretty = prettyFactory({ colorize: process.stdout.isTTY, singleLine: true, ignore: 'pid,hostname,name,role', messageFormat: '{role} | {msg}', translateTime: 'HH:MM:ss.l' });
  const children = new Map<string, { proc: ChildProcess; restarts: number; startedAt: number }>();
  let stopping = false;

  function pipe(role: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
    createInterface({ input: stream }).on('line', (line) => {
      if (opts.pretty && line.startsWith('{')) {
        try { out.write(pretty(line)); return; } catch { /* not JSON after all */ }
      }
      out.write(`${role} | ${line}\n`);
    });
  }

  function start(spec: ChildSpec, restarts = 0): void {
    const proc = spawn(process.execPath, [bin, spec.role, ...(spec.args ?? [])], {
      env: { ...process.env, ...opts.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(spec.role, { proc, restarts, startedAt: Date.now() });
    pipe(spec.role, proc.stdout, process.stdout);
    pipe(spec.role, proc.stderr, process.stderr);
    proc.on('exit', (code, signal) => {
      const entry = children.get(spec.role);
      children.delete(spec.role);
      if (stopping) return;
      const ranMs = Date.now() - (entry?.startedAt ?? Date.now());
      const attempt = ranMs > 60_000 ? 0 : (entry?.restarts ?? 0) + 1;
      const wait = backoffMs(attempt, 500, 30_000);
      log.error({ role: spec.role, code, signal, ranMs, restartInMs: wait }, `${spec.role} died (${signal ? `signal ${signal}` : `exit code ${code}`}); restarting`);
      setTimeout(() => { if (!stopping) start(spec, attempt); }, wait).unref();
    });
  }

  return {
    start,
    get roles() { return [...children.keys()]; },
    pid(role: string): number | undefined { return children.get(role)?.proc.pid; },
    async stop(graceMs = 15_000): Promise<void> {
      stopping = true;
      const waits = [...children.values()].map(({ proc }) => new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        proc.once('exit', () => { clearTimeout(t); resolve(); });
        proc.kill('SIGTERM');
      }));
      await Promise.all(waits);
    },
  };
}
