import type { Pool } from '../platform/index.ts';

/**
 * Demo sensors for the SMS intake (with `stam seed` and `npm start`): an Efento sensor on the first demo
 * site and a Blulog logger on the second, reporting from the numbers the README's curl uses, plus the same
 * Efento sensor reached through Efento Cloud webhooks. Idempotent.
 */
export async function seedDemoSensors(pool: Pool): Promise<void> {
  const sensors = [
    { object: 'DEMO-001', vendor: 'efento', sender: '+48600100200', ref: '282C02A1B2C3', name: 'Chłodnia 1', aliases: [] as string[] },
    { object: 'DEMO-002', vendor: 'blulog', sender: '+48600100300', ref: '1234567', name: 'Lodówka apteka T1', aliases: [] },
    { object: 'DEMO-001', vendor: 'other', sender: 'efento-cloud', ref: 'EFENTO-CLOUD-CHLODNIA-1', name: 'Chłodnia 1 (Efento Cloud)', aliases: ['Chłodnia 1'] },
  ];
  for (const s of sensors) {
    await pool.query(
      `INSERT INTO sensors (object_id, vendor, sender, sensor_ref, name, aliases)
       SELECT id, $2, $3, $4, $5, $6 FROM objects WHERE code = $1
       ON CONFLICT (vendor, sensor_ref) DO NOTHING`,
      [s.object, s.vendor, s.sender, s.ref, s.name, s.aliases],
    );
  }
}
