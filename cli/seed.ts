import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hashPassword } from '../gateway/index.ts';
import { SEALED, encryptSecret, type Config, type Logger, type Pool } from '../platform/index.ts';
import { seedDemoSensors } from './seed-sms.ts';

export interface DemoCredentials { username: string; password: string }

/** Where the demo operator's login is kept (git ignores .data/). */
export const DEMO_CREDENTIALS = '.data/demo-credentials.json';

/**
 * A demo dataset: one object and panel per simulated panel (pointing at the simulator's ports, with the
 * simulator's user code sealed, so the demo can arm and disarm), zone names, and an operator account whose
 * random password is kept in .data/demo-credentials.json (git ignores it). Idempotent.
 */
export async function seedDemo(pool: Pool, config: Config, log: Logger, credentialsFile = DEMO_CREDENTIALS): Promise<DemoCredentials> {
  for (let i = 1; i <= config.SIMULATOR_PANELS; i++) {
    const code = `DEMO-${String(i).padStart(3, '0')}`;
    const port = config.SIMULATOR_PORT + i - 1;
    const obj = await pool.query<{ id: number }>(
      `INSERT INTO objects (code, name, address) VALUES ($1, $2, $3)
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [code, `Demo site ${i}`, `ul. Przykładowa ${i}, Poznań`],
    );
    const objectId = obj.rows[0]!.id;
    const existing = await pool.query<{ id: number }>('SELECT id FROM panels WHERE object_id = $1', [objectId]);
    let panelId = existing.rows[0]?.id;
    if (panelId === undefined) {
      const p = await pool.query<{ id: number }>(
        `INSERT INTO panels (object_id, name, host, port, model, user_code_enc) VALUES ($1, $2, '127.0.0.1', $3, 'integra128', $4) RETURNING id`,
        [objectId, `INTEGRA 128 #${i}`, port, encryptSecret(config.SIMULATOR_USER_CODE, SEALED.panelUserCode)],
      );
      panelId = p.rows[0]!.id;
    } else {
      await pool.query(`UPDATE panels SET host = '127.0.0.1', port = $2, enabled = true, updated_at = now() WHERE id = $1 AND port <> $2`, [panelId, port]);
      await pool.query('UPDATE panels SET user_code_enc = $2 WHERE id = $1 AND user_code_enc IS NULL', [panelId, encryptSecret(config.SIMULATOR_USER_CODE, SEALED.panelUserCode)]);
    }
    const zones = ['Front door', 'Hall PIR', 'Office PIR', 'Back door', 'Window contact', 'Smoke detector', 'Glass break', 'Garage'];
    await pool.query(
      `INSERT INTO zones (panel_id, number, name) SELECT $1, n, name FROM unnest($2::int[], $3::text[]) AS t(n, name)
       ON CONFLICT DO NOTHING`,
      [panelId, zones.map((_, k) => k + 1), zones],
    );
    await pool.query(`INSERT INTO partitions (panel_id, number, name) VALUES ($1, 1, 'Main') ON CONFLICT DO NOTHING`, [panelId]);
  }
  await seedDemoSensors(pool);
  let creds: DemoCredentials;
  if (existsSync(credentialsFile)) {
    creds = JSON.parse(readFileSync(credentialsFile, 'utf8')) as DemoCredentials;
  } else {
    creds = { username: 'operator', password: randomBytes(9).toString('base64url') };
    mkdirSync(dirname(credentialsFile), { recursive: true });
    writeFileSync(credentialsFile, JSON.stringify(creds), { mode: 0o600 });
  }
  await pool.query(
    `INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, 'Demo operator', $2, 'OPERATOR')
     ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false`,
    [creds.username, await hashPassword(creds.password)],
  );
  if (config.FEATURE_PUSH_ENABLED) await seedDemoPhone(pool);
  log.info({ panels: config.SIMULATOR_PANELS }, 'demo dataset seeded');
  return creds;
}

/** The demo phone's FCM token (the fake FCM accepts it and shows what it gets in its log and at /fake/phones). */
export const DEMO_PHONE_TOKEN = 'demo-phone-field-worker';

/**
 * A field worker assigned to every demo site, with one registered phone: the recipient rule
 * "FIELD_WORKER assigned to the object" makes every CRITICAL demo alarm reach it. It cannot log in (no
 * usable password); it exists to receive pushes.
 */
async function seedDemoPhone(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO users (username, display_name, password_hash, role) VALUES ('field.demo', 'Demo field worker', '!', 'FIELD_WORKER')
     ON CONFLICT (username) DO UPDATE SET disabled = false RETURNING id`,
  );
  const userId = rows[0]!.id;
  await pool.query(`INSERT INTO user_objects (user_id, object_id) SELECT $1, id FROM objects WHERE code LIKE 'DEMO-%' ON CONFLICT DO NOTHING`, [userId]);
  await pool.query(
    `INSERT INTO user_devices (user_id, fcm_token, platform, app_version) VALUES ($1, $2, 'android', 'demo')
     ON CONFLICT (fcm_token) DO UPDATE SET user_id = EXCLUDED.user_id, last_seen_at = now(), quarantined_at = NULL`,
    [userId, DEMO_PHONE_TOKEN],
  );
}
