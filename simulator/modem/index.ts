/**
 * GSM modem simulator: a modem (modem.ts) behind a real pty (pty.ts) that sms-ingest opens with the real
 * serialport package, a SIM store (store.ts), and the deliveries and faults the control API and tests ask
 * for. Messages are encoded as a network would deliver them — GSM 7-bit or UCS2, long ones split with an
 * 8-bit (IEI 0x00) or 16-bit (0x08) reference — with the pure codec of ingest/sms/core.
 */
import { Type, type Static } from '@sinclair/typebox';
import { encodeDeliver, splitText, toSeptets } from '../../ingest/sms/core/index.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { createRng } from '../../platform/random.ts';
import { SIMULATOR_DEFAULTS } from '../../platform/simulator-defaults.ts';
import { parseValue } from '../../platform/validate.ts';
import { createModem } from './modem.ts';
import { DeliverSchema, type DeliverRequest } from './requests.ts';
import { createPtyLink } from './pty.ts';
import { createSmsStore } from './store.ts';

const OptionsSchema = Type.Object({
  device: Type.String({ minLength: 1, default: SIMULATOR_DEFAULTS.modemDevice }),
  /** Slots of the SIM store (SIM cards hold 20–50; a modem's own memory a few hundred). */
  capacity: Type.Integer({ minimum: 1, maximum: 10_000, default: 50 }),
  firstIndex: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1 }),
  /** Zone of the service centre time stamps, minutes east of UTC (default: Europe/Warsaw now). */
  tzMinutes: Type.Optional(Type.Integer({ minimum: -720, maximum: 840 })),
  seed: Type.Integer({ default: 1 }),
}, { additionalProperties: false });

export { DeliverSchema, type DeliverRequest } from './requests.ts';

export interface Delivered { parts: number; encoding: 'gsm7' | 'ucs2'; indices: (number | null)[]; smscTimeMs: number; deliveredAtMs: number }

function warsawOffset(ms: number): number {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Warsaw', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Math.round((Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000) / 60_000);
}

export function createModemSimulator(options: Partial<Static<typeof OptionsSchema>> & { log?: Logger; onDelete?: (index: number, pdu: string) => void } = {}) {
  const { log: givenLog, onDelete, ...raw } = options;
  const s = parseValue(OptionsSchema, raw, { where: 'invalid modem simulator options', code: 'E_CONFIG' });
  const log = givenLog ?? createLogger('modem-simulator', 'silent');
  const rng = createRng(s.seed);
  const store = createSmsStore({ capacity: s.capacity, firstIndex: s.firstIndex });
  let nextRef = Math.floor(rng() * 65_536);
  let stopped = false;
  let vanishTimer: NodeJS.Timeout | undefined;

  const pty = createPtyLink(s.device, (d) => modem.input(d), (err) => { if (!stopped) log.warn({ err: err.message }, 'modem pty lost'); });
  const modem = createModem({ store, write: (d) => pty.write(d), ...(onDelete ? { onDelete } : {}) });

  function deliver(req: Partial<DeliverRequest> & Pick<DeliverRequest, 'from' | 'text'>): Delivered {
    const r = parseValue(DeliverSchema, req, { where: 'invalid SMS' });
    const encoding = r.encoding === 'auto' ? (toSeptets(r.text) ? 'gsm7' : 'ucs2') : r.encoding;
    if (encoding === 'gsm7' && !toSeptets(r.text)) throw new Error('text has characters outside the GSM 7-bit alphabet: use encoding ucs2');
    const iei = r.referenceBits === 8 ? 0 : 8;
    const texts = splitText(r.text, encoding, iei);
    const ref = (nextRef = (nextRef + 1) % (iei === 0 ? 256 : 65_536));
    const smscTimeMs = Math.floor((r.at ?? Date.now()) / 1000) * 1000;
    const tz = s.tzMinutes ?? warsawOffset(smscTimeMs);
    const pdus = texts.map((text, i) => encodeDeliver({
      sender: r.from, text, smscTimeMs, smscTzMinutes: tz, encoding,
      concat: texts.length > 1 ? { iei, ref, total: texts.length, seq: i + 1 } : null, smsc: '+48601000310',
    }));
    let order = pdus.map((_, i) => i).filter((i) => !r.drop.includes(i + 1));
    if (r.order === 'reverse') order = order.reverse();
    if (r.order === 'shuffle') {
      for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
      if (order.length > 1 && order.every((v, i) => v === i)) order.push(order.shift()!); // never accidentally in order
    }
    const indices: (number | null)[] = [];
    for (let c = 0; c < r.copies; c++) for (const i of order) indices.push(modem.receive(pdus[i]!) ?? null);
    log.info({ from: r.from, parts: texts.length, encoding, indices }, 'SMS delivered to the modem');
    return { parts: texts.length, encoding, indices, smscTimeMs, deliveredAtMs: Date.now() };
  }

  return {
    device: s.device,
    store,
    modem,
    deliver,
    get status() {
      return {
        device: s.device, up: pty.up, ...modem.state, used: store.used, capacity: store.capacity, queuedInNetwork: store.queued,
        deleted: store.deleted, stats: { ...modem.stats },
      };
    },
    /** Stored messages by index (tests, the control API). */
    stored: () => store.list().map(([index, m]) => ({ index, stat: m.stat, pdu: m.pdu })),
    /** The storage-full fault: no room beyond what is stored now; off: the network delivers what it held. */
    storageFull(on: boolean): void {
      store.limit(on ? store.used : undefined);
      if (!on) modem.deliverQueued();
    },
    /** The device vanishes (USB unplugged) for `ms`, then comes back on the same path. */
    async vanish(ms: number): Promise<void> {
      await pty.close();
      clearTimeout(vanishTimer);
      vanishTimer = setTimeout(() => { if (!stopped) void pty.open().catch((err: Error) => log.error({ err: err.message }, 'modem pty did not come back')); }, ms);
    },
    async start(): Promise<void> {
      await pty.open();
      log.info({ device: s.device, capacity: s.capacity }, 'modem simulator on a pty');
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(vanishTimer);
      await pty.close();
    },
  };
}

export type ModemSimulator = ReturnType<typeof createModemSimulator>;
