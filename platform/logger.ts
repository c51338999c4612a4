import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces them before a line is written. */
const redact = [
  'password', '*.password', 'token', '*.token', 'refreshToken', '*.refreshToken', 'accessToken', '*.accessToken',
  'userCode', '*.userCode', 'integrationKey', '*.integrationKey', 'secret', '*.secret', 'ticket', '*.ticket',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
];

/** One JSON event per line; `role` names the process in the combined log of `stam all`. */
export function createLogger(role: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: role, level, redact: { paths: redact, censor: '[redacted]' }, base: { role, pid: process.pid } });
}
