/**
 * The sms-ingest role: one GSM modem (modem.ts), the intake pipeline (intake.ts), the modem's supervision
 * (supervision.ts), the sensors directory and the vendor templates, producing SmsEvents to sms.events.v1
 * keyed by sensor id with acks -1. No SMS at all for SMS_SILENCE_ALERT_S sets stam_sms_silent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { interpretSms, parseTemplates, sameSender, type ReceivedSms, type Template } from '../core/index.ts';
import { createProducer, type Logger, type Pool, type Producer, type ReadinessCheck } from '../../../platform/index.ts';
import { codecFor, topicName, type SmsEvent } from '../../../schemas/index.ts';
import { createDirectoryCache } from './directory.ts';
import { createIntake, type Intake } from './intake.ts';
import { metrics as m } from './metrics.ts';
import { createModem, type ModemState } from './modem.ts';
import { createModemSupervision } from './supervision.ts';

export interface SmsDriverOptions {
  kafka: Kafka;
  pool: Pool;
  log: Logger;
  topicPrefix: string;
  device: string;
  baudRate: number;
  storage: 'SM' | 'ME' | 'MT';
  commandTimeoutMs: number;
  supervisionMs: number;
  heartbeatMs: number;
  drainIntervalMs: number;
  multipartTimeoutMs: number;
  silenceAlertMs: number;
  reopenMaxMs: number;
  sensorRefreshMs: number;
  templatesFile: string;
  timeZone: string;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pduSha = (pdu: string) => createHash('sha256').update(pdu.toUpperCase()).digest('hex');
/** How long the PDUs of acknowledged long SMS are remembered (a part left on a SIM longer than this is read as new). */
const ACKED_PARTS_KEEP_DAYS = 30;

/** Reads and checks the vendor templates (every example must match); E_CONFIG names the file and template. */
export function loadTemplates(file: string, timeZone: string): Template[] {
  const path = isAbsolute(file) ? file : resolve(ROOT, file);
  return parseTemplates(readFileSync(path, 'utf8'), { where: path, timeZone, sameSender });
}

export function createSmsDriver(o: SmsDriverOptions) {
  const { log } = o;
  const templates = loadTemplates(o.templatesFile, o.timeZone);
  const topic = topicName('sms.events.v1', o.topicPrefix);
  const codec = codecFor('SmsEvent');
  const directory = createDirectoryCache({ pool: o.pool, refreshMs: o.sensorRefreshMs, log });
  let producer: Producer | undefined;
  let lastReceivedMs = Date.now();
  const timers: NodeJS.Timeout[] = [];

  const produce = async (events: SmsEvent[]): Promise<void> => {
    if (events.length === 0) return;
    await producer!.send({ topic, acks: -1, messages: events.map((e) => ({ key: e.sensor_id, value: codec.encode(e) })) });
  };
  const supervision = createModemSupervision({ supervisionMs: o.supervisionMs, pool: o.pool, produce, log });

  const intake: Intake = createIntake({
    run: (c) => modem.run(c), commandTimeoutMs: o.commandTimeoutMs, multipartTimeoutMs: o.multipartTimeoutMs, produce, log,
    interpret: (sms: ReceivedSms) => interpretSms(sms, { templates, directory: directory.get(), timeZone: o.timeZone }),
    received: () => { lastReceivedMs = Date.now(); m.lastReceived.set(lastReceivedMs / 1000); m.silent.set(0); },
    remember: async (parts) => {
      if (parts.length === 0) return;
      await o.pool.query(
        `INSERT INTO sms_acked_parts (pdu_sha, dedup_key) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (pdu_sha) DO NOTHING`,
        [parts.map((p) => pduSha(p.pdu)), parts.map((p) => p.dedupKey)]);
    },
    remembered: async (pdus) => {
      const byHash = new Map(pdus.map((p) => [pduSha(p), p]));
      const { rows } = await o.pool.query<{ pdu_sha: string }>('SELECT pdu_sha FROM sms_acked_parts WHERE pdu_sha = ANY($1::text[])', [[...byHash.keys()]]);
      return new Set(rows.map((r) => byHash.get(r.pdu_sha)!));
    },
  });

  const modem = createModem({
    device: o.device, baudRate: o.baudRate, storage: o.storage, commandTimeoutMs: o.commandTimeoutMs, heartbeatMs: o.heartbeatMs,
    drainIntervalMs: o.drainIntervalMs, reopenMaxMs: o.reopenMaxMs, intake: () => intake, log,
    onUp: () => supervision.up(), onDown: (reason) => supervision.down(reason),
  });

  return {
    get state(): ModemState { return modem.state; },
    /** /readyz: the modem is initialised and answering. */
    readiness: { name: 'modem', check: () => (modem.state === 'ready' ? Promise.resolve() : Promise.reject(new Error(`modem ${modem.state}`))) } satisfies ReadinessCheck,
    get pending() { return intake.pending; },
    async start(): Promise<void> {
      log.info({ templates: templates.length, device: o.device }, 'sms intake starting');
      producer = await createProducer(o.kafka);
      await directory.start();
      await supervision.load();
      await o.pool.query(`DELETE FROM sms_acked_parts WHERE acked_at < now() - make_interval(days => $1)`, [ACKED_PARTS_KEEP_DAYS])
        .catch((err: Error) => log.warn({ err: err.message }, 'old acknowledged parts not purged'));
      m.lastReceived.set(lastReceivedMs / 1000);
      m.silent.set(0);
      timers.push(
        setInterval(() => m.silent.set(Date.now() - lastReceivedMs >= o.silenceAlertMs ? 1 : 0), Math.min(10_000, o.silenceAlertMs)),
        setInterval(() => { if (intake.nextIncompleteDueAt() <= Date.now()) void intake.sweepIncomplete(); }, 1000),
      );
      modem.start();
    },
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      await modem.stop();
      await intake.stop();
      await supervision.stop();
      directory.stop();
      await producer?.disconnect();
    },
  };
}

export type SmsDriver = ReturnType<typeof createSmsDriver>;
