/**
 * The sensors table as the SMS core sees it: which sensor an SMS is about, from its sender and the serial
 * or name a template found in its text. A sensor is known by its `sensor_ref` (the vendor's id or serial),
 * its name, or an alias (the name the vendor's cloud or device uses). Unresolved, the sensor id says who
 * sent it (`unknown:<sender>[:<token>]`) and the processor routes it to the "unknown senders" object.
 */

export interface SensorEntry {
  sensorRef: string;
  /** Phone number or alphanumeric sender of its SMS; '*' marks the catch-all row, which matches nothing here. */
  sender: string;
  name: string;
  vendor: string;
  /** A template name this sensor's SMS are tried with first. */
  template: string | null;
  aliases: readonly string[];
}

/** The sensor_ref of the catch-all row (migration 009): SMS no sensor claims land on its object. */
export const CATCH_ALL_SENSOR = '*';
/** The sensor_ref of the GSM modem itself (its down/restored alarms). */
export const MODEM_SENSOR = 'modem';

const norm = (s: string) => s.normalize('NFC').toLowerCase().replace(/ł/g, 'l').normalize('NFD').replace(/\p{M}+/gu, '').replace(/\s+/g, ' ').trim();

/** Phone numbers compare by their last nine digits (a Polish subscriber number, with or without +48/0048); names case-insensitively. */
export function sameSender(a: string, b: string): boolean {
  const da = a.replace(/[\s-]/g, '');
  const db = b.replace(/[\s-]/g, '');
  const num = /^\+?\d{3,}$/;
  if (num.test(da) && num.test(db)) {
    const x = da.replace(/^\+|^00/, '');
    const y = db.replace(/^\+|^00/, '');
    return x === y || (x.length >= 9 && y.length >= 9 && x.slice(-9) === y.slice(-9));
  }
  return norm(da) === norm(db);
}

export interface Resolution { sensorId: string; known: boolean; vendor: string | null }

export function createSensorDirectory(entries: readonly SensorEntry[]) {
  const real = entries.filter((e) => e.sender !== '*' && e.sensorRef !== CATCH_ALL_SENSOR && e.sensorRef !== MODEM_SENSOR);

  const ofSender = (sender: string) => real.filter((e) => sameSender(e.sender, sender));

  /** Among candidates, those of this sender first, then those of the vendor, then any; one only, else none. */
  function pick(cands: SensorEntry[], sender: string, vendor: string | null): SensorEntry | undefined {
    for (const tier of [cands.filter((e) => sameSender(e.sender, sender)), cands.filter((e) => vendor !== null && e.vendor === vendor), cands]) {
      if (tier.length === 1) return tier[0];
      if (tier.length > 1) return undefined; // ambiguous: an operator must look
    }
    return undefined;
  }

  return {
    size: real.length,
    ofSender,
    /**
     * The sensor of an SMS: by serial (sensor_ref), else by name or alias, else the sender's only sensor.
     * `vendor` is the matched template's vendor (null for an unrecognised SMS).
     */
    resolve(q: { sender: string; serial?: string | null; name?: string | null; vendor?: string | null }): Resolution {
      const vendor = q.vendor ?? null;
      const hit = (e: SensorEntry | undefined): Resolution | undefined => (e ? { sensorId: e.sensorRef, known: true, vendor: e.vendor } : undefined);
      if (q.serial) {
        const s = norm(q.serial);
        const r = hit(pick(real.filter((e) => norm(e.sensorRef) === s), q.sender, vendor));
        if (r) return r;
      }
      for (const token of [q.name, q.serial]) {
        if (!token) continue;
        const t = norm(token);
        const r = hit(pick(real.filter((e) => norm(e.name) === t || norm(e.sensorRef) === t || e.aliases.some((a) => norm(a) === t)), q.sender, vendor));
        if (r) return r;
      }
      const mine = ofSender(q.sender);
      // Without a serial or name in the text, a sender with one sensor is that sensor.
      if (mine.length === 1 && !q.serial && !q.name) return hit(mine[0])!;
      const token = q.serial ?? q.name;
      return { sensorId: `unknown:${q.sender}${token ? `:${norm(token)}` : ''}`, known: false, vendor };
    },
  };
}

export type SensorDirectory = ReturnType<typeof createSensorDirectory>;
