import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import { SEALED, createProducer, decryptSecret, panelStateKey, StamError, tokenBucket, type Logger, type Pool, type Producer, type Redis } from '../../../platform/index.ts';
import { codecFor, topicName, type PanelLink, type SatelEvent } from '../../../schemas/index.ts';
import { createBatchingProducer, type BatchingProducer } from './batcher.ts';
import { createCursorStore } from './cursor.ts';
import { SATEL_DEFAULTS as defaults } from './defaults.ts';
import { createLeaseManager, type Lease } from './lease.ts';
import { createLiveWriter } from './live-writer.ts';
import { metrics as m } from './metrics.ts';
import { createPanelPoller, type PanelPoller, type PanelTarget, type PollerStatus } from './poller.ts';
import type { PanelCommandPort } from './command-gate.ts';
import { createRedisTraceLookup } from './trace-source.ts';
import { createNameStore } from './names.ts';

export interface SatelDriverOptions {
  kafka: Kafka;
  pool: Pool;
  redis: Redis;
  log: Logger;
  topicPrefix: string;
  pollIntervalMs: number;
  answerTimeoutMs: number;
  panelRefreshMs: number;
  // Left out (tests, tools): the configuration's default (defaults.ts).
  connectTimeoutMs?: number;
  keepAliveMs?: number;
  logSweepMs?: number;
  /** Ask modules that offer it to push changes (monitoring mode). */
  monitoring?: boolean;
  /** Push-driven log reads per second across all panels; beyond it, pushed records wait for the poll. */
  pushReadsPerS?: number;
  /** 0xEE name reads per second across all panels, for panels without zone names (0: never read names). */
  nameReadsPerS?: number;
  logCatchUpMax?: number;
  /** Most log lines of one kind per panel per minute (SATEL_LOG_LINES_PER_MINUTE). */
  logLinesPerMinute?: number;
  /** LINK_SUPERVISION_S in ms: a loss longer than this is produced as PanelLink LOST. */
  supervisionMs?: number;
  /** FEATURE_HA_ENABLED: share panels with other drivers through Redis leases. */
  ha?: { ttlMs: number; renewMs: number } | undefined;
  /** This driver in lease tokens and logs (default defaultDriverId()). */
  driverId?: string | undefined;
  traceSource?: 'none' | 'redis';
  /** Opens `panels.integration_key_enc` (platform secrets by default). */
  decrypt?: (sealed: Buffer) => string;
  /** Arm/disarm commands (driver-commands.ts): told which panels this driver polls, and given their links. */
  commands?: { attach(panelId: number, port: PanelCommandPort, fencing: number): Promise<void>; detach(panelId: number): Promise<void> } | undefined;
}

/** SATEL_DRIVER_ID when unset: the host and process, unique among the drivers sharing panels. */
export const defaultDriverId = (): string => `${hostname()}-${process.pid}`;

interface PanelRow { id: number; host: string; port: number; model: string; integration_key_enc: Buffer | null; has_user_code: boolean; names_missing: boolean }
interface Running { poller: PanelPoller; signature: string; lease: Lease | undefined }

/**
 * The Satel ingest role. Keeps one poller per enabled panel of the `panels` table (re-read every
 * panelRefreshMs: added, changed and removed panels are picked up without a restart), produces their
 * events keyed by panel id with acks -1, and keeps live state in Redis:
 *
 * - `panel:{id}:state` hash: state (JSON: zones violated/tamper/alarm, partitions armed/alarm/fire,
 *   outputs on, trouble bitmaps), link (up/down), last_seen (ms), firmware, module, panel_type,
 *   link_down_since, link_lost_announced, link_error, driver_fencing;
 * - `panel:{id}:cursor` hash: the event-log cursor (also in panel_cursors);
 * - with `ha`: `lease:panel:{id}` (token) and `lease:panel:{id}:fencing` (counter). A panel is polled only
 *   while this driver holds its lease; every renewMs the driver renews what it holds (a lost lease stops
 *   that poller at once) and tries to take the panels nobody holds — a dead driver's panels move within
 *   ttlMs + renewMs. Without `ha` every panel is polled here, fencing still comes from the counter.
 */
export function createSatelDriver(opts: SatelDriverOptions) {
  const { kafka, pool, redis, log } = opts;
  const eventsTopic = topicName('satel.events.v1', opts.topicPrefix);
  const linkTopic = topicName('panel.link.v1', opts.topicPrefix);
  const satelCodec = codecFor('SatelEvent');
  const linkCodec = codecFor('PanelLink');
  const driverId = opts.driverId ?? defaultDriverId();
  const decrypt = opts.decrypt ?? ((sealed: Buffer) => decryptSecret(sealed, SEALED.panelIntegrationKey));
  if (opts.ha && opts.ha.renewMs * 3 > opts.ha.ttlMs) {
    throw new StamError('E_CONFIG', `SATEL_LEASE_RENEW_MS (${opts.ha.renewMs}) must be at most a third of SATEL_LEASE_TTL_MS (${opts.ha.ttlMs})`);
  }
  const leases = createLeaseManager({ redis, driverId, ttlMs: opts.ha?.ttlMs ?? defaults.SATEL_LEASE_TTL_MS });
  const cursors = createCursorStore({ redis, pool, log });
  const liveWriter = createLiveWriter(redis, log);
  const traces = opts.traceSource === 'redis' ? createRedisTraceLookup(redis) : undefined;
  const texts = new Map<string, string | null>();
  const running = new Map<number, Running>();
  /** Enabled panels by id with their signature; unreadable keys are left out (logged once per signature). */
  let wanted = new Map<number, { target: PanelTarget; signature: string }>();
  let clearText = new Set<number>();
  const unreadable = new Map<number, string>();
  let producer: Producer | undefined;
  let batcher: BatchingProducer | undefined;
  let timers: NodeJS.Timeout[] = [];
  let serial: Promise<void> = Promise.resolve();
  let stopped = false;

  const exclusive = (what: string, fn: () => Promise<void>): Promise<void> =>
    (serial = serial.then(fn).catch((err: Error) => log.error({ err: err.message }, `satel driver: ${what} failed`)));

  // Per-second budgets shared by every poller of this driver: push-driven log reads and 0xEE name reads.
  const pushReadBudget = tokenBucket(opts.pushReadsPerS ?? defaults.SATEL_PUSH_READS_PER_S);
  const nameReadsPerS = opts.nameReadsPerS ?? defaults.SATEL_NAME_READS_PER_S;
  const names = nameReadsPerS > 0 ? { budget: tokenBucket(nameReadsPerS), save: createNameStore(pool).save } : undefined;

  const tuning = {
    connectTimeoutMs: opts.connectTimeoutMs ?? defaults.SATEL_CONNECT_TIMEOUT_MS,
    keepAliveMs: opts.keepAliveMs ?? defaults.SATEL_KEEPALIVE_MS,
    logSweepMs: opts.logSweepMs ?? defaults.SATEL_LOG_SWEEP_MS,
    monitoring: opts.monitoring ?? defaults.SATEL_MONITORING,
    logCatchUpMax: opts.logCatchUpMax ?? defaults.SATEL_LOG_CATCHUP_MAX,
    logLinesPerMinute: opts.logLinesPerMinute ?? defaults.SATEL_LOG_LINES_PER_MINUTE,
    supervisionMs: opts.supervisionMs ?? defaults.LINK_SUPERVISION_S * 1000,
  };

  function pollerFor(target: PanelTarget, fencing: number, lease: Lease | undefined): PanelPoller {
    const stateKey = panelStateKey(target.id);
    return createPanelPoller(target, {
      ...tuning, log, pollIntervalMs: opts.pollIntervalMs, answerTimeoutMs: opts.answerTimeoutMs, pushReadBudget, fencing, cursors, texts, traces, names,
      checkLease: () => {
        if (lease && lease.validUntil <= performance.now()) throw new StamError('E_SATEL_LEASE', `lease of panel ${target.id} expired locally`);
      },
      produce: (events: SatelEvent[]) => batcher!.send(eventsTopic, events.map((e) => ({ key: String(e.panel_id), value: satelCodec.encode(e) }))),
      produceLink: (l: PanelLink) => batcher!.send(linkTopic, [{ key: String(l.panel_id), value: linkCodec.encode(l) }]),
      live: {
        load: () => redis.hgetall(stateKey),
        save: (fields, announce) => liveWriter.save(stateKey, fields, announce ? target.id : undefined),
      },
    });
  }

  async function startPoller(id: number, lease: Lease | undefined): Promise<void> {
    const w = wanted.get(id);
    if (!w || running.has(id)) return;
    const fencing = lease ? lease.fencing : await leases.nextFencing(id);
    const poller = pollerFor(w.target, fencing, lease);
    running.set(id, { poller, signature: w.signature, lease });
    poller.start();
    await opts.commands?.attach(id, poller.commands, fencing);
    log.info({ panel: id, fencing, lease: lease !== undefined }, 'panel poller started');
  }

  async function stopPoller(id: number, why: string, release: boolean): Promise<void> {
    const r = running.get(id);
    if (!r) return;
    running.delete(id);
    await opts.commands?.detach(id); // no new commands for it here; one in progress ends with the link
    await r.poller.stop();
    if (r.lease && release) await leases.release(r.lease).catch((err: Error) => log.warn({ panel: id, err: err.message }, 'lease not released'));
    log.info({ panel: id, why }, 'panel poller stopped');
  }

  async function readPanels(): Promise<void> {
    const { rows } = await pool.query<PanelRow>(
      `SELECT id, host, port, model, integration_key_enc, user_code_enc IS NOT NULL AS has_user_code,
              NOT EXISTS (SELECT 1 FROM zones z WHERE z.panel_id = p.id) AS names_missing
         FROM panels p WHERE enabled ORDER BY id`);
    const next = new Map<number, { target: PanelTarget; signature: string }>();
    const clear = new Set<number>();
    for (const r of rows) {
      // A command carries the user code in the frame: without integration encryption it crosses the network readable.
      if (r.has_user_code && !r.integration_key_enc) {
        if (!clearText.has(r.id)) log.warn({ panel: r.id }, 'panel has a user code but no integration key: commands send the code in clear (set an integration key: ETHM-1 Plus encryption)');
        clear.add(r.id);
      }
      const keyHash = r.integration_key_enc ? createHash('sha256').update(r.integration_key_enc).digest('hex').slice(0, 16) : '-';
      const signature = `${r.host}:${r.port}:${r.model}:${keyHash}`;
      let integrationKey: string | undefined;
      const known = wanted.get(r.id);
      if (known?.signature === signature) {
        integrationKey = known.target.integrationKey; // unchanged: no need to open the sealed key again
      } else if (r.integration_key_enc) {
        try {
          integrationKey = decrypt(r.integration_key_enc);
          unreadable.delete(r.id);
        } catch (err) {
          if (unreadable.get(r.id) !== signature) {
            // The error names the key ring entry at most, never the key.
            log.error({ panel: r.id, code: (err as { code?: string }).code, err: (err as Error).message }, 'panel integration key cannot be decrypted; panel not polled');
            unreadable.set(r.id, signature);
          }
          continue;
        }
      }
      // names_missing is not part of the signature: names arriving never restart a poller.
      next.set(r.id, { target: { id: r.id, host: r.host, port: r.port, model: r.model, integrationKey, namesMissing: r.names_missing }, signature });
    }
    wanted = next;
    clearText = clear;
    for (const [id, r] of [...running]) {
      const w = wanted.get(id);
      if (!w) await stopPoller(id, 'panel removed or disabled', true);
      else if (w.signature !== r.signature) {
        // Same lease (if any), new connection settings.
        await stopPoller(id, 'panel changed; reconnecting', false);
        await startPoller(id, r.lease);
      }
    }
  }

  /** HA: renew what we hold, stop what we lost, take what nobody holds. */
  async function leaseTick(): Promise<void> {
    const held = [...running.values()].flatMap((r) => (r.lease ? [r.lease] : []));
    try {
      const { lost } = await leases.renew(held);
      for (const l of lost) {
        m.leasesLost.inc();
        log.warn({ panel: l.panelId, fencing: l.fencing }, 'panel lease lost to another driver or expiry');
        await stopPoller(l.panelId, 'lease lost', false);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'lease renewal failed; pollers stop when their leases expire locally');
    }
    for (const [id, r] of [...running]) {
      if (r.lease && r.lease.validUntil <= performance.now()) await stopPoller(id, 'lease expired locally', false);
      // A poller that found a newer driver's fencing on the cursor: let go (the release checks the token).
      else if (r.poller.status().state === 'lease-lost') await stopPoller(id, 'a newer driver owns the panel', true);
    }
    const free = [...wanted.keys()].filter((id) => !running.has(id));
    for (const lease of await leases.acquire(free)) {
      if (stopped || !wanted.has(lease.panelId)) { await leases.release(lease); continue; }
      await startPoller(lease.panelId, lease);
    }
    m.leasesHeld.set([...running.values()].filter((r) => r.lease).length);
  }

  async function refresh(): Promise<void> {
    await readPanels();
    if (opts.ha) await leaseTick();
    else for (const id of wanted.keys()) await startPoller(id, undefined);
  }

  return {
    driverId,
    get panelCount() { return running.size; },
    /** Panels whose commands would carry the user code unencrypted (no integration key): /readyz warns of them. */
    clearTextPanels(): number[] { return [...clearText].sort((a, b) => a - b); },
    /** Per-panel status of the pollers this driver runs (tests, ops). */
    status(): PollerStatus[] { return [...running.values()].map((r) => r.poller.status()); },
    async start(): Promise<void> {
      producer = await createProducer(kafka);
      batcher = createBatchingProducer(producer); // events of many panels go out in one request
      cursors.start();
      await exclusive('first panel refresh', refresh);
      timers.push(setInterval(() => void exclusive('panel refresh', refresh), opts.panelRefreshMs));
      if (opts.ha) timers.push(setInterval(() => void exclusive('lease renewal', leaseTick), opts.ha.renewMs));
      log.info({ driverId, panels: running.size, wanted: wanted.size, ha: opts.ha !== undefined }, 'satel driver polling');
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers = [];
      await serial;
      await Promise.all([...running.keys()].map((id) => stopPoller(id, 'driver stopping', true)));
      await batcher?.drain();
      await cursors.stop();
      await liveWriter.close();
      await producer?.disconnect();
    },
  };
}

export type SatelDriver = ReturnType<typeof createSatelDriver>;
