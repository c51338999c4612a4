import { randomUUID } from 'node:crypto';
import { backoffMs, counter, gauge, histogram, sleep, type Logger } from '../../platform/index.ts';
import type { PanelLink, PanelLinkStatus, SatelEvent, SatelEventKind } from '../../schemas/index.ts';
import {
  Cmd, decodeBitmapState, decodeIntegraVersion, decodeModuleVersion, decodeNewData, encodeNewDataQuery, encodeStateQuery,
  supportsExtendedAnswers,
} from './commands.ts';
import { PanelConnection } from './connection.ts';
import { message } from './types.ts';

const m = {
  connected: gauge('stam_satel_panels_connected', 'panels with a live link'),
  backingOff: gauge('stam_satel_panels_backing_off', 'panels waiting to reconnect'),
  reconnects: counter('stam_satel_reconnects_total', 'reconnect attempts'),
  frameErrors: counter('stam_satel_frame_errors_total', 'rejected frames and stray bytes, by type', ['code']),
  protocolErrors: counter('stam_satel_protocol_errors_total', 'unexpected answers, busy and timeouts', ['code']),
  pollSeconds: histogram('stam_satel_poll_cycle_seconds', 'one poll cycle (0x7F and the changed reads)', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2]),
  events: counter('stam_satel_events_produced_total', 'SatelEvents acknowledged by the broker', ['kind']),
};

/** Watched state commands and the event kinds their bits turn into (set → on, cleared → off). */
export const WATCHED = [
  { cmd: Cmd.zonesViolation, field: 'zonesViolated', on: 'ZONE_VIOLATION', off: 'ZONE_RESTORE' },
  { cmd: Cmd.zonesTamper, field: 'zonesTamper', on: 'ZONE_TAMPER', off: 'ZONE_TAMPER_RESTORE' },
  { cmd: Cmd.zonesAlarm, field: 'zonesAlarm', on: 'ZONE_ALARM', off: 'ZONE_ALARM_RESTORE' },
  { cmd: Cmd.armedPartitionsReally, field: 'partitionsArmed', on: 'PARTITION_ARMED', off: 'PARTITION_DISARMED' },
  { cmd: Cmd.partitionsAlarm, field: 'partitionsAlarm', on: 'PARTITION_ALARM', off: 'PARTITION_ALARM_RESTORE' },
  { cmd: Cmd.partitionsFireAlarm, field: 'partitionsFireAlarm', on: 'PARTITION_FIRE_ALARM', off: 'PARTITION_ALARM_RESTORE' },
  { cmd: Cmd.outputsState, field: 'outputsOn', on: 'OUTPUT_ON', off: 'OUTPUT_OFF' },
] as const satisfies readonly { cmd: number; field: string; on: SatelEventKind; off: SatelEventKind }[];

export type StateField = (typeof WATCHED)[number]['field'];
export type PanelState = Partial<Record<StateField, number[]>>;

export interface PanelTarget { id: number; host: string; port: number; model: string }

export interface PollerDeps {
  log: Logger;
  pollIntervalMs: number;
  answerTimeoutMs: number;
  /** The driver's lease fencing number for this panel (0 without HA). */
  fencing: () => number;
  /** Resolves only after the broker acknowledged every event. */
  produce: (events: SatelEvent[]) => Promise<void>;
  produceLink: (link: PanelLink) => Promise<void>;
  /** Last state the centre knows (Redis), so a restarted driver does not re-announce it. */
  loadState: () => Promise<PanelState | undefined>;
  saveState: (state: PanelState, meta: { link: string; firmware?: string }) => Promise<void>;
  /** Test/scenario hook: attaches a trace to a state change (the simulator's side channel). */
  traceFor?: (panelId: number, kind: SatelEventKind, n: number) => SatelEvent['trace'];
}

/** Differences between two bitmaps as events, in object-number order. */
export function diffState(prev: PanelState, next: PanelState): { kind: SatelEventKind; n: number; field: StateField }[] {
  const out: { kind: SatelEventKind; n: number; field: StateField }[] = [];
  for (const w of WATCHED) {
    const before = new Set(prev[w.field] ?? []);
    const after = next[w.field];
    if (after === undefined) continue;
    const now = new Set(after);
    for (const n of after) if (!before.has(n)) out.push({ kind: w.on, n, field: w.field });
    for (const n of before) if (!now.has(n)) out.push({ kind: w.off, n, field: w.field });
  }
  return out;
}

/**
 * Keeps one panel polled: connect, identify, poll 0x7F, read what changed, diff, produce, and only then
 * take the new state as known. A failed produce leaves the state unchanged, so the next cycle produces
 * the same changes again with the same dedup keys. Link loss reconnects with backoff 1→30 s and jitter.
 */
export function createPanelPoller(panel: PanelTarget, deps: PollerDeps) {
  const log = deps.log.child({ panel: panel.id });
  const abort = new AbortController();
  let conn: PanelConnection | undefined;
  let loop: Promise<void> | undefined;
  let known: PanelState = {};
  // Per (kind, n) transition counters of this lease term: a retried produce repeats the same dedup key.
  const transitions = new Map<string, number>();
  let linkUp = false;
  let lostAnnounced = false;

  async function link(status: PanelLinkStatus, reason: string | null): Promise<void> {
    const observed = Date.now();
    await deps.produceLink({
      event_id: randomUUID(), panel_id: panel.id, status, reason, observed_at: observed, fencing: deps.fencing(),
      dedup_key: `link:${panel.id}:${status}:${deps.fencing()}:${observed}`, trace: null,
    });
  }

  async function readState(c: PanelConnection, cmds: Iterable<number>, extended: boolean): Promise<PanelState> {
    const next: PanelState = {};
    for (const cmd of cmds) {
      const w = WATCHED.find((x) => x.cmd === cmd);
      if (!w) continue;
      const answer = await c.request(encodeStateQuery(cmd, { extended: extended && cmd !== Cmd.armedPartitionsReally && cmd !== Cmd.partitionsAlarm && cmd !== Cmd.partitionsFireAlarm }));
      next[w.field] = decodeBitmapState(answer).active;
    }
    return next;
  }

  async function applyChanges(next: PanelState): Promise<void> {
    const changes = diffState(known, next);
    if (changes.length > 0) {
      const observed = Date.now();
      const fencing = deps.fencing();
      const counters = new Map(transitions);
      const events: SatelEvent[] = changes.map((ch) => {
        const k = `${ch.kind}:${ch.n}`;
        const seq = (counters.get(k) ?? 0) + 1;
        counters.set(k, seq);
        return {
          event_id: randomUUID(), panel_id: panel.id, kind: ch.kind, object_number: ch.n, panel_time: null, observed_at: observed,
          fencing, dedup_key: `satel:${panel.id}:state:${fencing}:${ch.kind}:${ch.n}:${seq}`, log: null,
          trace: deps.traceFor?.(panel.id, ch.kind, ch.n) ?? null,
        };
      });
      await deps.produce(events);
      for (const [k, v] of counters) transitions.set(k, v);
      for (const e of events) m.events.inc({ kind: e.kind });
    }
    known = { ...known, ...next };
    await deps.saveState(known, { link: 'up' });
  }

  async function session(): Promise<void> {
    const c = new PanelConnection({ host: panel.host, port: panel.port, answerTimeoutMs: deps.answerTimeoutMs });
    conn = c;
    c.on('frameError', (ev: { code: string; reason: string }) => { m.frameErrors.inc({ code: ev.code }); log.warn({ code: ev.code, reason: ev.reason }, 'frame rejected'); });
    await c.connect();
    const integra = decodeIntegraVersion(await c.request(message(Cmd.integraVersion)));
    const module = decodeModuleVersion(await c.request(message(Cmd.moduleVersion)));
    const extended = supportsExtendedAnswers(module, integra);
    m.connected.inc();
    try {
      await link(lostAnnounced ? 'RESTORED' : 'CONNECTED', null);
      lostAnnounced = false;
      linkUp = true;
      log.info({ host: panel.host, port: panel.port, type: integra.type, firmware: integra.raw, extended }, 'panel connected');
      known = (await deps.loadState()) ?? {};
      const baseline = await readState(c, WATCHED.map((w) => w.cmd), extended);
      if (Object.keys(known).length === 0) known = baseline; // first sight: state, not events
      await applyChanges(baseline);
      while (!abort.signal.aborted && !c.closed) {
        const started = process.hrtime.bigint();
        const changed = decodeNewData(await c.request(encodeNewDataQuery()));
        const toRead = WATCHED.map((w) => w.cmd).filter((cmd) => changed.has(cmd));
        if (toRead.length > 0) await applyChanges(await readState(c, toRead, extended));
        m.pollSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        await sleep(deps.pollIntervalMs, abort.signal);
      }
    } finally {
      m.connected.dec();
    }
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!abort.signal.aborted) {
      try {
        await session();
        attempt = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        const code = (err as { code?: string }).code ?? 'E_SATEL_LINK';
        m.protocolErrors.inc({ code });
        log.warn({ code, err: (err as Error).message }, 'panel link failed');
      } finally {
        conn?.close();
      }
      if (abort.signal.aborted) break;
      if (linkUp) {
        linkUp = false;
        await link('LOST', 'link failed').then(() => { lostAnnounced = true; }, (err: Error) => log.error({ err: err.message }, 'could not produce link loss'));
        await deps.saveState(known, { link: 'down' }).catch(() => undefined);
      }
      m.reconnects.inc();
      m.backingOff.inc();
      await sleep(backoffMs(attempt++, 1_000, 30_000), abort.signal);
      m.backingOff.dec();
    }
  }

  return {
    panel,
    start(): void { loop = run(); },
    async stop(): Promise<void> {
      abort.abort();
      conn?.close('driver stopping');
      await loop;
    },
  };
}

export type PanelPoller = ReturnType<typeof createPanelPoller>;
