/**
 * The one catalogue of error codes. Whether a message is retried, dead-lettered or rejected is decided
 * from the error's flags here, not guessed by each consumer. `keepsLink` (Satel): the module is there and
 * one answer went wrong, so the panel link is used again instead of being reconnected (see keepsLink()).
 */
export const ErrorCodes = {
  E_CONFIG: { message: 'invalid configuration', retryable: false },
  E_SATEL_CRC: { message: 'Satel frame CRC mismatch', retryable: false, keepsLink: true },
  E_SATEL_FRAME: { message: 'malformed Satel frame', retryable: false, keepsLink: true },
  E_SATEL_BUSY: { message: 'Satel module busy', retryable: true, keepsLink: true },
  E_SATEL_TIMEOUT: { message: 'Satel panel did not answer in time', retryable: true },
  E_SATEL_PROTOCOL: { message: 'unexpected Satel answer', retryable: true, keepsLink: true },
  E_SATEL_LINK: { message: 'Satel link error', retryable: true },
  E_SATEL_REQUEST: { message: 'invalid arguments for a Satel request', retryable: false },
  E_SATEL_CRYPTO: { message: 'Satel encrypted PDU rejected (integration key or session ids)', retryable: false },
  E_SATEL_LEASE: { message: 'panel lease lost or not held (another driver owns the panel)', retryable: false },
  E_AVRO_MAGIC: { message: 'not Avro single-object encoding', retryable: false },
  E_AVRO_UNKNOWN_SCHEMA: { message: 'unknown Avro schema fingerprint', retryable: false },
  E_AVRO_DECODE: { message: 'undecodable Avro body', retryable: false },
  E_EVENT_INVALID: { message: 'event fails validation', retryable: false },
  E_DB_UNAVAILABLE: { message: 'database unavailable', retryable: true },
  E_BROKER_UNAVAILABLE: { message: 'broker unavailable', retryable: true },
  E_MIGRATION: { message: 'migration failed', retryable: false },
  E_AUTH_INVALID: { message: 'invalid credentials', retryable: false },
  E_AUTH_TOKEN: { message: 'invalid or expired token', retryable: false },
  E_FORBIDDEN: { message: 'not permitted', retryable: false },
  E_NOT_FOUND: { message: 'not found', retryable: false },
  E_VALIDATION: { message: 'invalid request', retryable: false },
  E_ALARM_CONFLICT: { message: 'alarm changed or claimed by someone else', retryable: false },
  E_WS_TICKET: { message: 'invalid or used WebSocket ticket', retryable: false },
  E_AUTH_LOCKED: { message: 'account locked after too many failed logins', retryable: false },
  E_AUTH_THROTTLED: { message: 'too many failed logins from this address', retryable: true },
  E_RATE_LIMITED: { message: 'too many requests of this kind from this user; try again later', retryable: true },
  E_AUTH_REFRESH: { message: 'invalid, expired or revoked refresh token', retryable: false },
  E_ALARM_OWNER: { message: 'alarm belongs to another operator', retryable: false },
  E_CONFLICT: { message: 'conflicts with an existing record', retryable: false },
  E_UNAVAILABLE: { message: 'dependency unavailable', retryable: true },
  E_SECRET_KEY: { message: 'secrets key ring missing or lacks the needed key', retryable: false },
  E_SECRET_CORRUPT: { message: 'sealed secret is malformed or fails authentication', retryable: false },
  E_COMMAND_INVALID: { message: 'malformed arm/disarm command message', retryable: false },
  E_BROKER_REFUSED: { message: 'the broker refused the message for good (too large, invalid record)', retryable: false },
  E_PUSH_JOB_INVALID: { message: 'malformed push job', retryable: false },
  E_FCM_CREDENTIAL: { message: 'FCM credential refused (service account, token endpoint or FCM authentication)', retryable: false },
  E_FCM_UNAVAILABLE: { message: 'FCM or its token endpoint unavailable, over quota or failing', retryable: true },
  E_FCM_REJECTED: { message: 'FCM rejected the message itself (payload, options)', retryable: false },
  E_SMS_PDU: { message: 'SMS PDU does not decode (malformed, truncated or not an SMS-DELIVER)', retryable: false },
  E_SMS_MODEM: { message: 'GSM modem did not answer as expected (ERROR, timeout, reset or port gone)', retryable: true },
  E_SMS_WEBHOOK: { message: 'Efento webhook refused (missing or wrong shared secret, or not configured)', retryable: false },
} as const satisfies Record<string, { message: string; retryable: boolean; keepsLink?: true }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class StamError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ErrorCodes[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StamError';
    this.code = code;
    this.retryable = ErrorCodes[code].retryable;
    this.details = options?.details;
  }
}

export function isStamError(err: unknown, code?: ErrorCode): err is StamError {
  return err instanceof StamError && (code === undefined || err.code === code);
}

/**
 * The panel link survives this error: the Satel driver retries on the same link (a poll cycle, an event
 * text) rather than reconnecting. Decided by the catalogue's `keepsLink` flag, nowhere else.
 */
export function keepsLink(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(ErrorCodes, code)) return false;
  const entry = ErrorCodes[code as ErrorCode];
  return 'keepsLink' in entry && entry.keepsLink;
}

/** Errors from drivers (pg, kafkajs, ioredis) that mean "the dependency is away, try again". */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StamError) return err.retryable;
  const e = err as { code?: unknown; retriable?: unknown; name?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.retriable === true) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // PostgreSQL: 08* connection exceptions, 57P01 admin shutdown, 53* insufficient resources, 40001/40P01 serialization/deadlock.
  if (/^(08|53|57P0)/.test(code) || code === '40001' || code === '40P01') return true;
  const name = typeof e.name === 'string' ? e.name : '';
  return name === 'KafkaJSConnectionError' || name === 'KafkaJSRequestTimeoutError' || name === 'KafkaJSNumberOfRetriesExceeded';
}

/**
 * A failure that the same input will cause again (bad data), as opposed to one of the environment.
 * Only these may send a message to a dead-letter topic; anything else is retried, so a bug or an outage
 * never turns good events into dead letters.
 */
export function isPoison(err: unknown): boolean {
  if (err instanceof StamError) return !err.retryable && err.code !== 'E_DB_UNAVAILABLE';
  const code = (err as { code?: unknown } | null)?.code;
  // PostgreSQL class 22 (data exception) and 23 (integrity constraint violation).
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}
