import type { Kafka } from 'kafkajs';
import { createProducer, type Logger, type Pool, type Producer, type Redis } from '../../platform/index.ts';
import { codecFor, topicName, type PanelLink, type SatelEvent } from '../../schemas/index.ts';
import { createPanelPoller, type PanelPoller, type PanelState, type PanelTarget } from './poller.ts';

export interface SatelDriverOptions {
  kafka: Kafka;
  pool: Pool;
  redis: Redis;
  log: Logger;
  topicPrefix: string;
  pollIntervalMs: number;
  answerTimeoutMs: number;
  panelRefreshMs: number;
}

/**
 * The Satel ingest role: keeps a poller for every enabled panel in the `panels` table, picks up panels
 * that are added, changed or removed without a restart, and produces their events keyed by panel id.
 */
export function createSatelDriver(opts: SatelDriverOptions) {
  const { kafka, pool, redis, log } = opts;
  const eventsTopic = topicName('satel.events.v1', opts.topicPrefix);
  const linkTopic = topicName('panel.link.v1', opts.topicPrefix);
  const satelCodec = codecFor('SatelEvent');
  const linkCodec = codecFor('PanelLink');
  const pollers = new Map<number, { poller: PanelPoller; signature: string }>();
  let producer: Producer | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;

  const stateKey = (id: number) => `panel:${id}:state`;

  async function produce(events: SatelEvent[]): Promise<void> {
    await producer!.send({
      topic: eventsTopic, acks: -1,
      messages: events.map((e) => ({ key: String(e.panel_id), value: satelCodec.encode(e) })),
    });
  }

  async function produceLink(l: PanelLink): Promise<void> {
    await producer!.send({ topic: linkTopic, acks: -1, messages: [{ key: String(l.panel_id), value: linkCodec.encode(l) }] });
  }

  function pollerFor(p: PanelTarget): PanelPoller {
    return createPanelPoller(p, {
      log, pollIntervalMs: opts.pollIntervalMs, answerTimeoutMs: opts.answerTimeoutMs,
      fencing: () => 0,
      produce, produceLink,
      loadState: async () => {
        const raw = await redis.hget(stateKey(p.id), 'state');
        return raw ? (JSON.parse(raw) as PanelState) : undefined;
      },
      saveState: async (state, meta) => {
        await redis.hset(stateKey(p.id), { state: JSON.stringify(state), link: meta.link, last_seen: String(Date.now()), ...(meta.firmware ? { firmware: meta.firmware } : {}) });
      },
    });
  }

  async function refresh(): Promise<void> {
    const { rows } = await pool.query<PanelTarget>('SELECT id, host, port, model FROM panels WHERE enabled ORDER BY id');
    const wanted = new Map(rows.map((r) => [r.id, r]));
    for (const [id, entry] of pollers) {
      const w = wanted.get(id);
      if (!w || signature(w) !== entry.signature) {
        await entry.poller.stop();
        pollers.delete(id);
        log.info({ panel: id }, w ? 'panel changed; reconnecting' : 'panel removed; stopped');
      }
    }
    for (const [id, p] of wanted) {
      if (pollers.has(id)) continue;
      const poller = pollerFor(p);
      pollers.set(id, { poller, signature: signature(p) });
      poller.start();
    }
  }

  return {
    get panelCount() { return pollers.size; },
    async start(): Promise<void> {
      producer = await createProducer(kafka);
      await refresh();
      refreshTimer = setInterval(() => void refresh().catch((err: Error) => log.error({ err: err.message }, 'could not refresh panels')), opts.panelRefreshMs);
      log.info({ panels: pollers.size }, 'satel driver polling');
    },
    async stop(): Promise<void> {
      clearInterval(refreshTimer);
      await Promise.all([...pollers.values()].map((p) => p.poller.stop()));
      pollers.clear();
      await producer?.disconnect();
    },
  };
}

function signature(p: PanelTarget): string {
  return `${p.host}:${p.port}:${p.model}`;
}

export type SatelDriver = ReturnType<typeof createSatelDriver>;
