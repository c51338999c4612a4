import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, ensureDatabase, isStamError, migrate, provisionTopics, readMigrations, topicSpecs } from '../../platform/index.ts';
import { adminUrl, createTestEnv, type TestEnv } from '../helpers/env.ts';
import { startRole } from '../../load-tests/index.ts';

const log = createLogger('test-migrate', 'silent');

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stam-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return `${dir}/`;
}

describe('migrations', () => {
  const db = `stam_migrate_${Date.now().toString(36)}`;
  const url = (() => { const u = new URL(adminUrl()); u.pathname = `/${db}`; return u.toString(); })();

  beforeAll(async () => { await ensureDatabase(url); });
  afterAll(async () => {
    const a = new pg.Client({ connectionString: adminUrl() });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await a.end();
  });

  it('two processes migrating at once apply each migration once (advisory lock)', async () => {
    const files = await readMigrations();
    const [a, b] = await Promise.all([migrate(url, log), migrate(url, log)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(files.map((f) => `${f.version}_${f.name}`).sort());
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query('SELECT version FROM schema_migrations ORDER BY version');
    await c.end();
    expect(rows.map((r: { version: number }) => r.version)).toEqual(files.map((f) => f.version));
  });

  it('a failing migration is rolled back whole and reported with its name', async () => {
    const dir = migrationsDir({ '001_ok.sql': 'CREATE TABLE t1 (id int);', '002_bad.sql': 'CREATE TABLE t2 (id int); SELECT no_such_function();' });
    const fresh = `${url}_bad`;
    await ensureDatabase(fresh);
    try {
      const err = await migrate(fresh, log, dir).then(() => undefined, (e: unknown) => e);
      expect(isStamError(err, 'E_MIGRATION')).toBe(true);
      expect((err as Error).message).toMatch(/migration 2_bad failed: .*no_such_function/);
      const c = new pg.Client({ connectionString: fresh });
      await c.connect();
      const { rows } = await c.query("SELECT to_regclass('t1') IS NOT NULL AS t1, to_regclass('t2') IS NOT NULL AS t2");
      await c.end();
      expect(rows[0]).toEqual({ t1: true, t2: false });
    } finally {
      const a = new pg.Client({ connectionString: adminUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db}_bad WITH (FORCE)`);
      await a.end();
    }
  });

  it('an applied migration that was edited afterwards is refused', async () => {
    const dir = migrationsDir({ '001_core.sql': '-- edited after it was applied\nSELECT 1;' });
    await expect(migrate(url, log, dir)).rejects.toThrow(/001?_core was changed after it was applied|1_core was changed after it was applied/);
  });

  it('`stam migrate` exits non-zero with the reason when the database is unreachable', async () => {
    const r = startRole('migrate', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const exit = await r.exited;
    expect(exit.code).toBe(1);
    expect(r.lines.some((l) => l.msg === 'migrate failed')).toBe(true);
  });
});

describe('topic provisioning', () => {
  let env: TestEnv;
  beforeAll(async () => { env = await createTestEnv({ KAFKA_PARTITIONS: '4', KAFKA_EVENT_RETENTION_DAYS: '30' }); });
  afterAll(async () => { await env?.cleanup(); });

  it('creates every topic and its .dlq with the configured partitions and retention, not broker defaults', async () => {
    await provisionTopics(env.kafka, topicSpecs(env.config), log); // idempotent second run
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const names = (await admin.listTopics()).filter((t) => t.startsWith(`${env.id}.`)).sort();
      expect(names).toEqual([
        'alarm.updates.v1', 'alarm.updates.v1.dlq', 'command.results.v1', 'command.results.v1.dlq', 'panel.link.v1', 'panel.link.v1.dlq',
        'satel.events.v1', 'satel.events.v1.dlq', 'sms.events.v1', 'sms.events.v1.dlq',
      ].map((n) => `${env.id}.${n}`));
      const meta = await admin.fetchTopicMetadata({ topics: [`${env.id}.satel.events.v1`, `${env.id}.alarm.updates.v1`] });
      // The broker lists topics in no particular order.
      const partitions = Object.fromEntries(meta.topics.map((t) => [t.name.slice(env.id.length + 1), t.partitions.length]));
      expect(partitions).toEqual({ 'satel.events.v1': 4, 'alarm.updates.v1': 1 });
      const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: `${env.id}.satel.events.v1`, configNames: ['retention.ms'] }] });
      expect(cfg.resources[0]!.configEntries[0]!.configValue).toBe(String(30 * 86_400_000));
    } finally {
      await admin.disconnect();
    }
  });
});
