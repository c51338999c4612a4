import { pino, type Bindings, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Fields whose values may be secrets, in any spelling (camelCase or snake_case) and at any depth: passwords,
 * tokens (access, refresh, FCM, WebSocket tickets), user codes, integration keys, private keys, credentials,
 * cookies and authorization headers, and request or response bodies as a whole (they carry all of these).
 */
const SECRET_KEY = /password|passwd|passphrase|^pass$|secret|token|ticket|user_?code|integration_?key|private_?key|credential|authorization|cookie|^body$/i;
const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

/** A copy of `value` with every secret field censored; the same object when there is none (no copy on the usual line). */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Error || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redactSecrets(v, depth + 1);
      if (r !== v) (out ??= [...(value as unknown[])])[i] = r;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? CENSOR : redactSecrets(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
}

/** One JSON event per line; `role` names the process in the combined log of `stam all`. Secrets never reach a line. */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    name: role, level, base: { role, pid: process.pid },
    formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) as Record<string, unknown> },
  };
  const root = destination ? pino(options, destination) : pino(options);
  // Child loggers inherit this `child` (pino makes them with Object.create), so their bindings are censored too.
  type Child = (this: Logger, bindings: Bindings, opts?: object) => Logger;
  const protoChild = (Object.getPrototypeOf(root) as { child: Child }).child;
  root.child = function childRedacted(this: Logger, bindings: Bindings, opts?: object) {
    return protoChild.call(this, redactSecrets(bindings) as Bindings, opts);
  } as unknown as Logger['child'];
  return root;
}
