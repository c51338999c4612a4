import type { AddressInfo } from 'node:net';
import { createLogger, createSecretBox, generateSecretKey, parseSecretKeys, type Pool, type Redis, type SecretBox } from '../../platform/index.ts';
import {
  KeyRing, buildGateway, createAlarmStream, hashPassword, type AlarmStream, type EfentoIntake, type Gateway, type GatewaySettings, type ReportDatabases,
} from '../../gateway/index.ts';
import type { TestEnv } from './env.ts';

export interface GatewayUnderTest {
  app: Gateway;
  keys: KeyRing;
  secrets: SecretBox;
  stream?: AlarmStream;
  /** Set when started with `listen: true`. */
  base: string;
  close(): Promise<void>;
}

/** The gateway built in this process against the test's database, Redis prefix and topics; optionally listening and tailing. */
export async function startGateway(env: TestEnv, opts: {
  listen?: boolean; stream?: boolean; settings?: Partial<GatewaySettings>; liveRedis?: Redis; secrets?: SecretBox; bufferSize?: number; pool?: Pool;
  reports?: { databases: ReportDatabases; claimDeadlineS: number };
  efento?: EfentoIntake;
} = {}): Promise<GatewayUnderTest> {
  const pool = opts.pool ?? env.pool;
  const log = createLogger('gateway-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const keys = await KeyRing.open({ dir: env.config.JWT_KEY_DIR, issuer: env.config.JWT_ISSUER, audience: env.config.JWT_AUDIENCE, ttlS: env.config.JWT_TTL_S, minReloadMs: 0 });
  const secrets = opts.secrets ?? createSecretBox(parseSecretKeys(generateSecretKey('test')));
  const stream = opts.stream
    ? createAlarmStream({ kafka: env.kafka, redis: env.redis, pool, log, topicPrefix: env.id, ...(opts.bufferSize ? { bufferSize: opts.bufferSize } : {}) })
    : undefined;
  const app = await buildGateway({
    pool, redis: env.redis, keys, log, checks: [], lifecycle: { state: 'running' }, secrets,
    ...(opts.settings ? { settings: opts.settings } : {}), ...(stream ? { stream } : {}), ...(opts.liveRedis ? { liveRedis: opts.liveRedis } : {}),
    ...(opts.reports ? { reports: { ...opts.reports, log } } : {}),
    ...(opts.efento ? { efento: opts.efento } : {}),
  });
  if (stream) {
    await stream.start();
    await stream.ready();
  }
  let base = '';
  if (opts.listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  } else {
    await app.ready();
  }
  return {
    app, keys, secrets, base, ...(stream ? { stream } : {}),
    async close() {
      await app.close();
      await stream?.stop();
      keys.close();
    },
  };
}

export interface TestUser { id: number; username: string; password: string; role: string }

let hashed: Promise<string> | undefined;
const PASSWORD = 'correct horse battery staple';

/** A user (all test users share one password, hashed once); scoped users get their objects assigned. */
export async function createUser(pool: Pool, username: string, role: string, objects: number[] = []): Promise<TestUser> {
  hashed ??= hashPassword(PASSWORD);
  const { rows } = await pool.query<{ id: number }>(
    'INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $1, $2, $3) RETURNING id', [username, await hashed, role]);
  const id = rows[0]!.id;
  for (const o of objects) await pool.query('INSERT INTO user_objects (user_id, object_id) VALUES ($1, $2)', [id, o]);
  return { id, username, password: PASSWORD, role };
}

export interface LoginResult { access_token: string; refresh_token: string; user: { id: number; role: string } }

export async function loginInject(app: Gateway, user: { username: string; password: string }, ip = '10.0.0.1'): Promise<LoginResult> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: user.password }, remoteAddress: ip });
  if (res.statusCode !== 200) throw new Error(`login of ${user.username} failed: ${res.statusCode} ${res.body}`);
  return res.json<LoginResult>();
}

/** `inject` with a bearer token and JSON body. */
export async function call<T = Record<string, unknown>>(app: Gateway, token: string | undefined, method: string, url: string, payload?: unknown): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const res = await app.inject({
    method: method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T, headers: res.headers };
}

/** An alarm row straight into the database (what the processor would have written). */
export async function insertAlarm(pool: Pool, objectId: number, over: { status?: string; severity?: string; test?: boolean; firstEventAt?: Date; panelId?: number | null } = {}): Promise<number> {
  const t = over.firstEventAt ?? new Date();
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO alarms (object_id, panel_id, source, zone, bundle_key, category, severity, status, title, event_count, first_event_at, last_event_at, test)
     VALUES ($1, $2, 'satel', 1, 'k:' || gen_random_uuid(), 'zone-violation', $3, $4, 'Zone 1 violated', 1, $5, $5, $6) RETURNING id`,
    [objectId, over.panelId ?? null, over.severity ?? 'WARNING', over.status ?? 'NEW', t, over.test ?? false]);
  return rows[0]!.id;
}
