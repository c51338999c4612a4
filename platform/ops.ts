import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.ts';
import { registry } from './metrics.ts';

/** Where each role serves /healthz, /readyz and /metrics unless OPS_PORT says otherwise. */
export const DEFAULT_OPS_PORTS: Readonly<Record<string, number>> = {
  'satel-ingest': 9401, 'alarm-processor': 9402, 'outbox-relay': 9403, simulator: 9404, 'sms-ingest': 9405, notifier: 9406,
  'command-processor': 9407,
};

/**
 * A dependency check for /readyz; only the dependencies of enabled features are registered. `warnings`
 * names what works but should not stay as it is (shown in /readyz, never making the role unready).
 */
export interface ReadinessCheck { name: string; check: () => Promise<void>; warnings?: () => string[] }

/** Every check's warnings, by check name (only those that have any). */
export function collectWarnings(checks: ReadinessCheck[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of checks) {
    const w = c.warnings?.() ?? [];
    if (w.length > 0) out[c.name] = w;
  }
  return out;
}

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped';

export interface Lifecycle { state: LifecycleState }

/** Runs every check with a deadline; returns the failures by name. */
export async function runChecks(checks: ReadinessCheck[], timeoutMs = 2_000): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  await Promise.all(checks.map(async (c) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.check(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs); }),
      ]);
    } catch (err) {
      failures[c.name] = (err as Error).message;
    } finally {
      clearTimeout(timer);
    }
  }));
  return failures;
}

/** /healthz (alive), /readyz (dependencies answer and not draining), /metrics (Prometheus text). */
export async function startOpsServer(opts: { host: string; port: number; checks: ReadinessCheck[]; lifecycle: Lifecycle; log: Logger }): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const reply = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (url === '/healthz') return reply(opts.lifecycle.state === 'stopped' ? 503 : 200, { status: opts.lifecycle.state });
    if (url === '/readyz') {
      void runChecks(opts.checks).then((failures) => {
        const ok = opts.lifecycle.state === 'running' && Object.keys(failures).length === 0;
        reply(ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', state: opts.lifecycle.state, failures, warnings: collectWarnings(opts.checks) });
      });
      return;
    }
    if (url === '/metrics') {
      void registry.metrics().then((text) => reply(200, text, registry.contentType), (err: Error) => reply(500, { error: err.message }));
      return;
    }
    reply(404, { code: 'E_NOT_FOUND', message: `no route ${url}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ port }, 'ops endpoints listening (/healthz /readyz /metrics)');
  return {
    port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
