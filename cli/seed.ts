import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hashPassword } from '../gateway/index.ts';
import type { Config, Logger, Pool } from '../platform/index.ts';
import { seedDemoSensors } from './seed-sms.ts';

export interface DemoCredentials { username: string; password: string }

/**
 * A demo dataset: one object and panel per simulated panel (pointing at the simulator's ports), zone
 * names, and an operator account whose random password is kept in .data/demo-credentials.json (git
 * ignores it) and printed at start. Idempotent.
 */
export async function seedDemo(pool: Pool, config: Config, log: Logger, credentialsFile = '.data/demo-credentials.json'): Promise<DemoCredentials> {
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
        `INSERT INTO panels (object_id, name, host, port, model) VALUES ($1, $2, '127.0.0.1', $3, 'integra128') RETURNING id`,
        [objectId, `INTEGRA 128 #${i}`, port],
      );
      panelId = p.rows[0]!.id;
    } else {
      await pool.query(`UPDATE panels SET host = '127.0.0.1', port = $2, enabled = true, updated_at = now() WHERE id = $1 AND port <> $2`, [panelId, port]);
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
  log.info({ panels: config.SIMULATOR_PANELS }, 'demo dataset seeded');
  return creds;
}
