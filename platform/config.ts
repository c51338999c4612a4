import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import envSchema from 'env-schema';
import { parse as parseYaml } from 'yaml';
import { StamError } from './errors.ts';
import { SIMULATOR_DEFAULTS } from './simulator-defaults.ts';

/**
 * Every setting of every role, validated once at start-up. The TypeScript type is derived from this
 * schema; a bad value stops the process with a message naming the variable.
 */
const Flag = (description: string) => Type.Boolean({ description });
const Port = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),

  KAFKA_BROKERS: Type.String({ default: '127.0.0.1:9092', description: 'comma-separated host:port list (Kafka or Redpanda)' }),
  KAFKA_CLIENT_ID: Type.String({ default: 'stam' }),
  KAFKA_TOPIC_PREFIX: Type.String({ default: '', description: 'prepended to every topic name (test isolation, shared clusters)' }),
  KAFKA_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1024, default: 12, description: 'partitions per event topic' }),
  KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, maximum: 7, default: 1 }),
  KAFKA_EVENT_RETENTION_DAYS: Type.Number({ exclusiveMinimum: 0, default: 90, description: 'retention of event topics (replay window)' }),
  KAFKA_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6000, maximum: 300_000, default: 6000, description: 'a consumer that stops heartbeating (crashed) leaves its group after this: how long its partitions wait for the restarted or another member' }),
  KAFKA_HEARTBEAT_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000, description: 'consumer heartbeat interval (a third of the session timeout or less)' }),
  KAFKA_UPDATE_RETENTION_DAYS: Type.Number({ exclusiveMinimum: 0, default: 7, description: 'retention of alarm.updates / command.results' }),

  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/stam' }),
  DATABASE_REPLICA_URL: Type.Optional(Type.String({ description: 'read replica for reports; primary when unset' })),
  DATABASE_REPLICA_PORT: Port(5433, 'port of the local read replica that `stam stack up --replica` runs on this machine'),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  REPORTS_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 50, default: 3, description: 'connections of the reports\' own pools (replica, and primary for the fallback): the bulkhead' }),
  REPORTS_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'a report query running longer is cancelled' }),
  REPORTS_MAX_LAG_S: Type.Number({ minimum: 0, default: 10, description: 'a replica further behind than this is not used: reports read the primary, with a WARNING' }),
  REPORTS_CLAIM_DEADLINE_S: Type.Integer({ minimum: 1, default: 60, description: 'a CRITICAL alarm not claimed within this is an exception in the response-times report' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  REDIS_KEY_PREFIX: Type.String({ default: '', description: 'prepended to every Redis key (test isolation)' }),
  RABBITMQ_URL: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672' }),

  OPS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'port of /healthz, /readyz, /metrics (default per role; 0 = any)' })),
  OPS_HOST: Type.String({ default: '127.0.0.1' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000, description: 'SIGTERM: drain this long, then exit hard' }),

  GATEWAY_HOST: Type.String({ default: '127.0.0.1' }),
  GATEWAY_PORT: Port(8080, 'operator console, REST and WebSocket'),
  JWT_ISSUER: Type.String({ default: 'stam-replacer' }),
  JWT_AUDIENCE: Type.String({ default: 'stam-operators' }),
  JWT_TTL_S: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
  JWT_KEY_DIR: Type.String({ default: '.data/jwt', description: 'RS256 signing key ring (PEM files); created when empty' }),
  JWT_KEY_RELOAD_S: Type.Integer({ minimum: 1, default: 60, description: 'how often the gateway re-reads JWT_KEY_DIR (also on an unknown kid)' }),
  REFRESH_TTL_S: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 43_200, description: 'refresh token lifetime (rotated on every use)' }),
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5, description: 'consecutive failed logins before the account locks' }),
  LOGIN_LOCK_S: Type.Integer({ minimum: 1, default: 900, description: 'how long a locked account stays locked' }),
  LOGIN_ADDRESS_MAX_FAILURES: Type.Integer({ minimum: 1, default: 30, description: 'failed logins from one address within LOGIN_ADDRESS_WINDOW_S before it is throttled' }),
  LOGIN_ADDRESS_WINDOW_S: Type.Integer({ minimum: 1, default: 900 }),
  TRUSTED_PROXIES: Type.String({
    default: '', pattern: '^[0-9a-fA-F.:/, ]*$',
    description: 'comma-separated addresses or CIDRs of reverse proxies (nginx) whose X-Forwarded-For is believed; from anyone else it is ignored',
  }),
  SECRETS_KEYS: Type.Optional(Type.String({ description: 'AES-256-GCM key ring kid=base64[,kid=base64…], first active; never logged' })),
  SECRETS_KEY_FILE: Type.String({ default: '.data/secrets.keys', description: 'development key ring file, created when SECRETS_KEYS is unset outside production' }),
  SECRET_REVEAL_TTL_S: Type.Integer({ minimum: 5, maximum: 600, default: 60, description: 'how long the console shows a revealed recorder password (it is the stored one: it stays valid on the recorder)' }),
  SECRET_REVEALS_PER_HOUR: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'recorder passwords one user may reveal per hour (all gateways)' }),
  MODE_SWEEP_INTERVAL_S: Type.Integer({ minimum: 1, default: 10, description: 'how often expired service/test modes are switched off' }),
  PANEL_STATE_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 250, description: 'Redis live-state read deadline before it counts as a failure' }),
  WS_BUFFER_SIZE: Type.Integer({ minimum: 10, default: 5000, description: 'updates kept in Redis ws:events:buffer for resuming clients' }),
  WS_RESUME_MAX_GAP: Type.Integer({ minimum: 0, default: 20_000, description: 'largest gap served from PostgreSQL history; beyond it a client gets a resync' }),
  WS_HISTORY_RETENTION_H: Type.Number({ exclusiveMinimum: 0, default: 24, description: 'hours of stream history kept in PostgreSQL' }),
  WS_PING_INTERVAL_MS: Type.Integer({ minimum: 100, default: 25_000, description: 'ping/heartbeat interval; a client silent for two intervals is dropped' }),
  WS_SLOW_BYTES: Type.Integer({ minimum: 1024, default: 256 * 1024, description: 'socket backlog above which a client is coalesced (latest version per alarm)' }),
  WS_MAX_BYTES: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024, description: 'socket backlog above which a client is disconnected' }),
  WS_MAX_COALESCED: Type.Integer({ minimum: 1, default: 2000, description: 'distinct alarms held for a coalesced client before it is disconnected' }),
  WS_ALLOWED_ORIGINS: Type.String({ default: '', pattern: '^\\s*(https?://[^,\\s/]+\\s*(,\\s*https?://[^,\\s/]+\\s*)*)?$', description: 'comma-separated origins (https://host[:port]) a browser may open /ws from besides the gateway\'s own host; other origins get 403' }),
  WS_MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'open WebSockets one user may hold on one gateway' }),
  WS_TICKETS_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000, default: 30, description: 'WebSocket tickets one user may take per minute (all gateways)' }),
  WS_READ_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'snapshot and history reads for (re)connecting clients run at most this many at a time per gateway; the rest wait their turn' }),

  SATEL_POLL_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 20_000, default: 1000 }),
  SATEL_ANSWER_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 30_000, default: 3000 }),
  SATEL_PANEL_REFRESH_MS: Type.Integer({ minimum: 500, default: 10_000, description: 'how often the panels table is re-read' }),
  LINK_SUPERVISION_S: Type.Integer({ minimum: 1, default: 60, description: 'link loss longer than this becomes an alarm' }),
  SATEL_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'TCP connect deadline per panel' }),
  SATEL_KEEPALIVE_MS: Type.Integer({ minimum: 100, maximum: 20_000, default: 10_000, description: 'send a harmless 0x7F when a link was idle this long (ETHM-1 Plus drops clients after 25 s)' }),
  SATEL_LOG_SWEEP_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 5000, description: 'read the panel event log at least this often even when no state flag changed (0 = every poll)' }),
  SATEL_MONITORING: Type.Boolean({ default: true, description: 'ask modules that offer it (ETHM-1 Plus) to push state changes, so events are read at once instead of at the next poll; polling continues either way' }),
  SATEL_PUSH_READS_PER_S: Type.Integer({ minimum: 1, maximum: 100_000, default: 250, description: 'monitoring mode: event-log reads brought forward by pushes, per second across all panels; beyond it a pushed event waits for the next poll (cheaper per record in a storm)' }),
  SATEL_NAME_READS_PER_S: Type.Integer({ minimum: 0, maximum: 10_000, default: 50, description: 'zone and partition names (0xEE) read from panels the centre has no zone names for, per second across all panels; 0: never' }),
  SATEL_LOG_LINES_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000, default: 20, description: 'most log lines of one kind (rejected frames, failed polls) per panel per minute; the rest are counted in stam_satel_log_lines_held_total' }),
  SATEL_LOG_CATCHUP_MAX: Type.Integer({ minimum: 10, maximum: 100_000, default: 5000, description: 'most event-log records read back in one catch-up after a reconnect' }),
  SATEL_TRACE_SOURCE: Type.Union([Type.Literal('none'), Type.Literal('redis')], { default: 'none', description: 'load tests: look up simulator traces of log records in Redis (satel:trace:{port}:{index})' }),
  SATEL_DRIVER_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$', description: 'this driver in lease tokens and logs (default host-pid)' })),
  SATEL_LEASE_TTL_MS: Type.Integer({ minimum: 1000, maximum: 120_000, default: 15_000, description: 'FEATURE_HA_ENABLED: panel lease lifetime; a dead driver\'s panels move after at most this plus one renew interval' }),
  SATEL_LEASE_RENEW_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'FEATURE_HA_ENABLED: lease renewal and acquisition interval (below a third of the TTL)' }),

  COMMANDS_TTL_S: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'default expiry of an arm/disarm command: never executed later than this after the request' }),
  COMMANDS_GRACE_S: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'a command still unanswered this long after its expiry is failed by the sweeper' }),
  COMMANDS_SWEEP_INTERVAL_S: Type.Integer({ minimum: 1, maximum: 600, default: 5, description: 'how often the command sweeper looks for unanswered commands' }),
  COMMANDS_PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'how long the API waits for RabbitMQ to confirm a command (retrying over reconnects)' }),
  COMMANDS_OPERATOR_ALLOWED: Type.Boolean({ default: false, description: 'OPERATOR may send arm/disarm commands too (SUPERVISOR and ADMIN always may)' }),
  COMMAND_RESULTS_GROUP: Type.String({ default: 'command-results', description: 'consumer group of the command-processor role' }),

  PROCESSOR_GROUP: Type.String({ default: 'alarm-processor' }),
  PROCESSOR_MAX_BATCH: Type.Integer({ minimum: 1, maximum: 100_000, default: 2000 }),
  BUNDLING_WINDOW_S: Type.Integer({ minimum: 0, default: 600 }),
  FLOOD_THRESHOLD: Type.Integer({ minimum: 1, default: 10, description: 'alarms on one object within FLOOD_WINDOW_S before a flood alarm absorbs the rest' }),
  FLOOD_WINDOW_S: Type.Integer({ minimum: 1, default: 600 }),
  RELAY_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  RELAY_IDLE_MS: Type.Integer({ minimum: 5, maximum: 10_000, default: 50, description: 'poll interval when LISTEN misses' }),
  OUTBOX_RETENTION_H: Type.Number({ exclusiveMinimum: 0, default: 24, description: 'hours published outbox rows are kept before the relay deletes them' }),

  SIMULATOR_PANELS: Type.Integer({ minimum: 1, maximum: 5000, default: 3 }),
  SIMULATOR_PORT: Port(SIMULATOR_DEFAULTS.port, 'first panel port; panel i listens on port + i - 1'),
  SIMULATOR_CONTROL_PORT: Port(SIMULATOR_DEFAULTS.controlPort, 'simulator control API'),
  SIMULATOR_USER_CODE: Type.String({ default: SIMULATOR_DEFAULTS.userCode, pattern: '^[0-9]{4,16}$' }),

  FCM_CREDENTIALS_FILE: Type.Optional(Type.String({ minLength: 1, description: 'Firebase service-account JSON (a Docker secret in compose); the notifier needs it when FEATURE_PUSH_ENABLED' })),
  FCM_PROJECT_ID: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{4,64}$', description: 'Firebase project id (default: project_id of the service-account file)' })),
  FCM_API_URL: Type.String({ pattern: '^https://[^/?#]+/?$', default: 'https://fcm.googleapis.com', description: 'FCM HTTP v1 endpoint (origin only); tests and the demo point it at the fake FCM' }),
  FCM_MAX_SOCKETS: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'open HTTPS connections to FCM at most' }),
  FCM_MESSAGE_TTL_S: Type.Integer({ minimum: 0, maximum: 2_419_200, default: 3600, description: 'how long FCM keeps a push for an offline phone' }),
  FCM_RETRY_BASE_MS: Type.Integer({ minimum: 10, default: 1000, description: 'first retry delay after a retryable FCM answer (doubled per attempt, jittered)' }),
  FCM_RETRY_MAX_MS: Type.Integer({ minimum: 10, default: 60_000, description: 'longest retry delay' }),
  FCM_QUOTA_BACKOFF_MS: Type.Integer({ minimum: 10, default: 60_000, description: 'shortest wait after QUOTA_EXCEEDED (FCM asks for at least a minute)' }),
  FCM_RETRY_DEADLINE_S: Type.Integer({ minimum: 1, maximum: 1500, default: 900, description: 'a job still failing this long after its first attempt is dead-lettered with the reason (below RabbitMQ\'s 30 min consumer timeout)' }),
  FCM_CREDENTIAL_RETRY_S: Type.Integer({ minimum: 1, default: 30, description: 'after a credential error: how often the service account is read again and a token requested' }),
  NOTIFIER_PREFETCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 64, description: 'push jobs the notifier holds unacknowledged' }),
  NOTIFIER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'push jobs sent at once (each holds a PostgreSQL connection while FCM answers)' }),
  DEVICE_STALE_DAYS: Type.Integer({ minimum: 1, default: 270, description: 'device tokens not registered or refreshed for this long are pruned (FCM treats them as stale)' }),
  SIMULATOR_FCM_PORT: Port(SIMULATOR_DEFAULTS.fcmPort, 'fake FCM (HTTPS) of `stam simulator --fcm` and `npm start`'),
  SMS_MODEM_DEVICE: Type.Optional(Type.String({ minLength: 1, description: 'serial device of the GSM modem (e.g. /dev/ttyUSB0); unset: `stam all` runs the modem simulator and points sms-ingest at it' })),
  SMS_MODEM_BAUD: Type.Integer({ minimum: 300, maximum: 4_000_000, default: 115_200 }),
  SMS_MODEM_STORAGE: Type.Union([Type.Literal('SM'), Type.Literal('ME'), Type.Literal('MT')], { default: 'SM', description: 'message store: SM (SIM), ME (modem), MT (both)' }),
  SMS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'one AT command to its final result (listing the whole store may take ten times as long)' }),
  SMS_SUPERVISION_S: Type.Integer({ minimum: 1, default: 60, description: 'a modem unreachable longer than this is an alarm (MODEM_DOWN), as a lost panel link is' }),
  SMS_HEARTBEAT_S: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'signal (AT+CSQ) and storage use (AT+CPMS?) read this often; no answer re-runs the init sequence' }),
  SMS_DRAIN_INTERVAL_S: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'list every stored message (AT+CMGL=4) this often, besides the start-up sweep and each +CMTI' }),
  SMS_MULTIPART_TIMEOUT_S: Type.Integer({ minimum: 1, maximum: 86_400, default: 300, description: 'a long SMS still missing parts this long after its first one is emitted as what arrived, flagged partial' }),
  SMS_SILENCE_ALERT_S: Type.Integer({ minimum: 1, default: 3600, description: 'no SMS at all for this long sets stam_sms_silent to 1 (for an alert rule)' }),
  SMS_REOPEN_MAX_S: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'longest wait between attempts to reopen a modem port that vanished (backoff from 1 s)' }),
  SMS_SENSOR_REFRESH_S: Type.Integer({ minimum: 1, default: 30, description: 'how often sms-ingest re-reads the sensors table' }),
  SMS_TEMPLATES_FILE: Type.String({ default: 'config/sms-templates.yaml', description: 'vendor SMS formats (relative paths from the project root)' }),
  SMS_TIME_ZONE: Type.String({ default: 'Europe/Warsaw', description: 'zone of the times written in SMS texts' }),
  SMS_EFENTO_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'shared secret Efento Cloud sends as header X-Webhook-Secret to POST /api/ingest/efento (unset: the webhook answers 503); never logged' })),
  SIMULATOR_MODEM_DEVICE: Type.String({ default: SIMULATOR_DEFAULTS.modemDevice, description: 'pty link the modem simulator creates (stam simulator --modem, npm start)' }),

  WEBAUTHN_RP_ID: Type.String({ default: 'localhost', pattern: '^[a-z0-9.-]{1,253}$', description: 'passkeys: the relying party id, the host name operators open the console at' }),
  WEBAUTHN_RP_NAME: Type.String({ default: 'stam-replacer', description: 'passkeys: the name the authenticator shows' }),
  WEBAUTHN_ORIGINS: Type.String({ default: '', description: 'passkeys: comma-separated origins accepted (empty: the request\'s own http(s) origin when its host is WEBAUTHN_RP_ID)' }),
  PIN_MAX_FAILURES: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'wrong quick-unlock PINs in a row after which the PIN is cleared and the password is needed' }),
  CONSOLE_IDLE_LOCK_S: Type.Integer({ minimum: 0, maximum: 86_400, default: 300, description: 'the console locks after this long without input (0: never); a PIN unlocks it' }),
  CONSOLE_MAP_TILE_URL: Type.String({ default: '', description: 'map tiles of the alarm detail, {z}/{x}/{y} template (empty: a plain placeholder with the coordinates)' }),

  FEATURE_REALTIME_ENABLED: Flag('gateway WebSocket stream'),
  FEATURE_PUSH_ENABLED: Flag('FCM push of CRITICAL alarms'),
  FEATURE_SMS_ENABLED: Flag('GSM modem SMS intake'),
  FEATURE_ARM_DISARM_ENABLED: Flag('remote arm/disarm'),
  FEATURE_HA_ENABLED: Flag('several drivers share panels via leases'),
});

export type Config = Static<typeof ConfigSchema>;

let defaults: Config | undefined;
/** The configuration with nothing set: every value the default of ConfigSchema, the one place defaults are written (for callers without a configuration: tests, tools). */
export function configDefaults(): Config {
  defaults ??= Value.Create(ConfigSchema);
  return defaults;
}

export const FEATURE_FLAGS = [
  'FEATURE_REALTIME_ENABLED', 'FEATURE_PUSH_ENABLED', 'FEATURE_SMS_ENABLED', 'FEATURE_ARM_DISARM_ENABLED', 'FEATURE_HA_ENABLED',
] as const;

const flagsFile = fileURLToPath(new URL('../config/feature_flags.yaml', import.meta.url));

function readFlagsFile(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StamError('E_CONFIG', `cannot read feature flags from ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new StamError('E_CONFIG', `${path} must be a mapping of FEATURE_* to true/false`);
  for (const key of Object.keys(doc)) {
    if (!(FEATURE_FLAGS as readonly string[]).includes(key)) throw new StamError('E_CONFIG', `${path}: unknown feature flag ${key}`);
  }
  return doc as Record<string, unknown>;
}

/**
 * Reads the environment (and the feature-flag file, which the environment overrides) and validates it.
 * Throws StamError E_CONFIG whose message names the offending variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flagsPath = env.FEATURE_FLAGS_FILE ?? flagsFile): Config {
  const flags = readFlagsFile(flagsPath);
  const data: Record<string, unknown> = {};
  for (const f of FEATURE_FLAGS) data[f] = flags[f] ?? false;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '' && k in ConfigSchema.properties) data[k] = v;
  try {
    return envSchema<Config>({ schema: ConfigSchema, data, dotenv: false, env: false });
  } catch (err) {
    const msg = (err as Error).message.replace(/^env\//, '').replace(/\benv\//g, '');
    throw new StamError('E_CONFIG', `configuration: ${msg}`, { cause: err });
  }
}

/** Settings whose values are secrets: never printed, whatever their name. */
const SECRET_SETTINGS = new Set(['SECRETS_KEYS', 'SMS_EFENTO_WEBHOOK_SECRET']);

/** Names of the variables whose values must never be printed. */
export function safeConfigView(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SECRET_SETTINGS.has(k)) { out[k] = v === undefined ? v : '[redacted]'; continue; }
    out[k] = /URL$/.test(k) && typeof v === 'string' ? v.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') : v;
  }
  return out;
}
