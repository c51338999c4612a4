/**
 * One panel kept polled: connect, identify (0x7E, 0x7C), read the live state and the event log, then
 * every poll interval ask 0x7F what changed, read those state commands, and read the log when a watched
 * flag was set (or the log sweep is due). A module that offers monitoring mode (0x7F + 12 bytes, ETHM-1
 * Plus) pushes the watched state frames the moment they change; a push updates the live state and brings
 * a log read forward, so an event is read within a round trip or two of happening instead of waiting up
 * to a poll interval. Polling goes on underneath, so nothing depends on a push. Link loss reconnects with
 * backoff 1 → 2 → 4 → 8 → 16 → 30 s (±25 % jitter); a loss longer than the supervision time is announced
 * as PanelLink LOST.
 *
 * How state and log relate — why nothing is counted twice:
 * the panel event log (0x8C) is the ONE source of SatelEvents. Each record is produced once with a
 * dedup_key made of (panel, index, record bytes): reading it again after a reconnect, a restart or by
 * another driver after failover yields the same key, and the processor keeps one row. Only the log can
 * be that source: it is ordered and indexed, it keeps what happened while the link was down, it keeps a
 * violation shorter than a poll interval, and it says how often something happened. A state bitmap says
 * none of that — a diff of two snapshots has no identity that two drivers would agree on. So state
 * reads drive the live state in Redis (fast display) and tell the poller when to read the log; known
 * event codes get typed kinds (log-events.ts), so alarm rules written for ZONE_VIOLATION etc. apply to log
 * records too, and the rest is LOG_RECORD classified by its class. Nothing is produced from the diff.
 *
 * The cursor (newest acknowledged record) moves only after the broker acknowledged (acks -1) the records
 * up to it. A broker outage keeps the link polled (live state, keep-alive) and the read records pending.
 *
 * Link supervision lives here, not in the processor: the driver is the only one that knows a link is
 * down while nothing arrives, and the processor has no clock-driven work. A failed link is shown at once
 * in Redis (`link: down`, `link_down_since`); PanelLink LOST is produced only once the loss has lasted
 * LINK_SUPERVISION_S, so a reconnect within it is a plain CONNECTED and no alarm. LOST and its RESTORED
 * share the down-since time in their dedup keys, and `link_down_since` in Redis lets a driver that takes
 * the panel over continue the same supervision (same keys) instead of starting a new one. A driver
 * failover is not a link loss: the new holder simply connects.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { backoffMs, keepsLink, sleep, StamError, type Logger } from '../../../platform/index.ts';
import type { PanelLink, PanelLinkStatus, SatelEvent, Trace } from '../../../schemas/index.ts';
import { Cmd, decodeIntegraVersion, decodeModuleVersion, decodeNewData, decodeResult, encodeMonitorRequest, encodeNewDataQuery, message, ResultCode, supportsExtendedAnswers, type Message } from '../protocol/index.ts';
import { PanelConnection, type FrameError } from './connection.ts';
import type { CursorStore } from './cursor.ts';
import type { LogCursor } from './log-reader.ts';
import { createLogPump } from './log-pump.ts';
import { createCommandGate, type PanelCommandPort } from './command-gate.ts';
import { pushedState, readState, stateChanged, WATCHED_CMDS, type PanelState } from './live-state.ts';
import { metrics as m } from './metrics.ts';
import { createNameReader, type NameReader, type PanelNames } from './names.ts';

export { diffState, WATCHED } from './live-state.ts';
export type { PanelState, StateField } from './live-state.ts';

export interface PanelTarget {
  id: number; host: string; port: number; model: string; integrationKey?: string | undefined;
  /** The centre has no zone names for this panel: read them from the panel (0xEE). */
  namesMissing?: boolean | undefined;
}

export interface PollerDeps {
  log: Logger;
  pollIntervalMs: number;
  answerTimeoutMs: number;
  connectTimeoutMs: number;
  keepAliveMs: number;
  /** Read the log at least this often even without a state flag (0: every poll). */
  logSweepMs: number;
  logCatchUpMax: number;
  /** Ask modules that offer it to push changes (monitoring mode); default true. */
  monitoring?: boolean;
  /**
   * Shared by every panel of the driver: true when a push may bring a log read forward now. When the
   * budget is spent (a storm on many panels), pushed records wait for the next poll, which reads many
   * records per cycle for less work; otherwise pushes would cost more round trips than polling saves.
   */
  pushReadBudget?: () => boolean;
  /** Link loss longer than this is produced as LOST. */
  supervisionMs: number;
  /** The lease fencing number, fixed for this poller's lifetime. */
  fencing: number;
  /** Throws E_SATEL_LEASE when this driver may no longer act for the panel. */
  checkLease: () => void;
  /** Each resolves only after the broker acknowledged. */
  produce: (events: SatelEvent[]) => Promise<void>;
  produceLink: (link: PanelLink) => Promise<void>;
  cursors: CursorStore;
  /**
   * `panel:{id}:state` (hash fields). `announce`: tell operators (the gateway pushes panel.state) — for
   * what they are shown: arming, partition alarms and the link, not every zone that a person walks past.
   */
  live: { load(): Promise<Record<string, string>>; save(fields: Record<string, string>, announce?: boolean): Promise<void> };
  /** Event texts (0x8F) by language, code and restore flag, shared by all pollers. */
  texts: Map<string, string | null>;
  traces?: ((port: number, indices: readonly number[]) => Promise<(Trace | null)[]>) | undefined;
  /**
   * Reading zone and partition names from panels without names: `budget` is shared by the driver (name
   * reads per second across all panels), `save` stores what was read. Absent: names are not read.
   */
  names?: { budget: () => boolean; save(panelId: number, names: PanelNames): Promise<number> } | undefined;
  random?: () => number;
}

export interface PollerStatus {
  panelId: number;
  state: 'starting' | 'connecting' | 'up' | 'backoff' | 'stopped' | 'lease-lost';
  fencing: number;
  connects: number;
  polls: number;
  lastPollAt: number | null;
  /** Why the link last failed (kept after a reconnect; null if it never failed). */
  lastError: string | null;
  cursor: LogCursor | null;
  pendingRecords: number;
  gaps: number;
  extended: boolean;
  /** The module pushes changes (monitoring mode accepted on the current link). */
  monitoring: boolean;
  /** Log reads a push brought forward (between polls). */
  pushReads: number;
}

/** Reconnect delay after `attempt` failures in a row: 1, 2, 4, 8, 16, 30, 30 … s, each ±25 % jitter. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  return backoffMs(attempt, 1_000, 30_000, random, 'around');
}

const MAX_ERRORS_IN_ROW = 5;
const LIVE_HEARTBEAT_MS = 5_000;
/** Pushes closer together than this share one log read. */
const PUSH_READ_GAP_MS = 20;
/** 0xEE name reads per poll cycle at most (a panel's names then take 160 / 8 = 20 cycles). */
const NAME_READS_PER_CYCLE = 8;

const codeOf = (err: unknown): string => (err as { code?: string }).code ?? 'E_SATEL_LINK';

export function createPanelPoller(panel: PanelTarget, deps: PollerDeps) {
  const log = deps.log.child({ panel: panel.id });
  const random = deps.random ?? Math.random;
  const abort = new AbortController();
  const status: PollerStatus = {
    panelId: panel.id, state: 'starting', fencing: deps.fencing, connects: 0, polls: 0, lastPollAt: null, lastError: null,
    cursor: null, pendingRecords: 0, gaps: 0, extended: false, monitoring: false, pushReads: 0,
  };
  let conn: PanelConnection | undefined;
  let loop: Promise<void> | undefined;
  let leaseLost: Error | undefined;
  /** The poll loop's sleep, woken by stop() (cheaper than an AbortSignal listener per cycle). */
  let wake: (() => void) | undefined;
  const nap = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(t); wake = undefined; resolve(); };
  });
  let downSince: number | undefined;
  let lostAnnounced = false;
  /** Names still to be read from the panel (once per poller, and again only if storing them failed). */
  let namesWanted = panel.namesMissing === true && deps.names !== undefined;
  /** Arm/disarm commands (driver-commands.ts): run whole between two poll cycles; a new one wakes the nap. */
  const gate = createCommandGate({ onSubmit: () => wake?.() });

  /**
   * PanelLink events go out in order, in the background, retried until the broker takes them (a broker
   * outage must not hold up polling, and a RESTORED must not get lost while an alarm for the loss is open).
   */
  let linkChain: Promise<void> = Promise.resolve();
  const emitLink = (s: PanelLinkStatus, reason: string | null, key: string, onAck?: () => Promise<void>): void => {
    const event: PanelLink = {
      event_id: randomUUID(), panel_id: panel.id, status: s, reason, observed_at: Date.now(), fencing: deps.fencing,
      dedup_key: `link:${panel.id}:${key}`, trace: null,
    };
    linkChain = linkChain.then(async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          deps.checkLease();
          await deps.produceLink(event);
          m.links.inc({ status: s });
          await onAck?.();
          return;
        } catch (err) {
          if (codeOf(err) === 'E_SATEL_LEASE') return;
          log.warn({ status: s, err: (err as Error).message }, 'could not produce the link event; retrying');
          await sleep(backoffMs(attempt, 1_000, 30_000, random, 'none'), abort.signal);
        }
      }
    });
  };
  const pump = createLogPump({
    panelId: panel.id, port: panel.port, fencing: deps.fencing, logCatchUpMax: deps.logCatchUpMax, readBudgetMs: Math.max(50, deps.pollIntervalMs / 2), log, cursors: deps.cursors,
    checkLease: deps.checkLease, produce: deps.produce, texts: deps.texts, traces: deps.traces,
    onCursor: (c) => { status.cursor = c; },
    onGap: () => { status.gaps++; },
  });
  const saveLive = (fields: Record<string, string>, announce = 'link' in fields): Promise<void> =>
    deps.live.save({ ...fields, driver_fencing: String(deps.fencing) }, announce).catch((err: Error) => log.warn({ err: err.message }, 'live state not written to Redis'));
  /** What operators are shown of the state (see PollerDeps.live); a change of it is announced. */
  const operatorView = (s: PanelState): string => JSON.stringify([s.partitionsArmed ?? [], s.partitionsAlarm ?? [], s.partitionsFireAlarm ?? []]);

  /** A failed cycle: the same link is tried again after a pause unless the error ends it (rethrown). Returns the new count. */
  async function cycleFailed(err: unknown, errorsInRow: number): Promise<number> {
    const code = codeOf(err);
    if (!keepsLink(err) || errorsInRow + 1 >= MAX_ERRORS_IN_ROW) throw err;
    m.protocolErrors.inc({ code });
    log.warn({ code, err: (err as Error).message, errorsInRow: errorsInRow + 1 }, 'poll cycle failed; retrying on the same link');
    await sleep(100 * (errorsInRow + 1), abort.signal);
    return errorsInRow + 1;
  }

  /**
   * Monitoring mode for the watched state commands: `EF FF` means the module will push them; the plain
   * ETHM-1 answers `EF 08` (other error). No answer is treated as a refusal, not a link failure.
   */
  async function askToMonitor(c: PanelConnection): Promise<boolean> {
    try {
      const answer = decodeResult(await c.request(encodeMonitorRequest(WATCHED_CMDS)));
      const on = answer.code === ResultCode.acceptedWillBeProcessed;
      log.debug({ result: answer.code }, on ? 'monitoring mode on' : 'monitoring mode refused; polling only');
      return on;
    } catch (err) {
      if (codeOf(err) !== 'E_SATEL_TIMEOUT' && codeOf(err) !== 'E_SATEL_PROTOCOL') throw err;
      log.info({ err: (err as Error).message }, 'monitoring mode not available; polling only');
      return false;
    }
  }

  /** 0x7E then 0x7C; no answer at all is what an integration-encryption mismatch looks like, so say so. */
  async function identify(c: PanelConnection) {
    try {
      const integra = decodeIntegraVersion(await c.request(message(Cmd.integraVersion)));
      const module = decodeModuleVersion(await c.request(message(Cmd.moduleVersion)));
      return { integra, module, extended: supportsExtendedAnswers(module, integra) };
    } catch (err) {
      if (codeOf(err) !== 'E_SATEL_TIMEOUT') throw err;
      const hint = c.encrypted
        ? 'integration encryption mismatch? (a key is configured for this panel: the module may not encrypt, or its key differs)'
        : 'integration encryption mismatch? (no key is configured for this panel: the module may have integration encryption on)';
      throw new StamError('E_SATEL_TIMEOUT', `no answer to identification (0x7E) within ${deps.answerTimeoutMs} ms: ${hint}; or the module hangs`, { cause: err });
    }
  }

  async function session(): Promise<void> {
    status.state = 'connecting';
    const c = new PanelConnection({
      host: panel.host, port: panel.port, connectTimeoutMs: deps.connectTimeoutMs, answerTimeoutMs: deps.answerTimeoutMs,
      keepAliveMs: deps.keepAliveMs, integrationKey: panel.integrationKey,
    });
    conn = c;
    c.on('frameError', (e: FrameError) => log.warn({ code: e.code, reason: e.reason }, 'frame rejected'));
    let onPush: ((msg: Message) => void) | undefined;
    c.on('unsolicited', (msg: Message) => {
      if (onPush) onPush(msg);
      else log.debug({ cmd: msg.cmd }, 'unsolicited frame ignored');
    });
    await c.connect();
    const id = await identify(c);
    deps.checkLease();
    status.connects++;
    status.extended = id.extended;
    m.connected.inc();
    try {
      await recallOutage(); // a driver that took the panel over ends the outage its predecessor announced
      const wasDown = downSince;
      const restored = lostAnnounced;
      downSince = undefined;
      lostAnnounced = false;
      status.state = 'up';
      // The outage is over: forget it in Redis now, not after the first state read, or a link that dies
      // during that read would continue the old outage and announce LOST early.
      if (wasDown !== undefined) await saveLive({ link: 'up', link_down_since: '', link_lost_announced: '', link_error: '' });
      log.info({ host: panel.host, port: panel.port, type: id.integra.typeName, firmware: id.integra.raw, module: id.module.raw, extended: id.extended, encrypted: c.encrypted }, 'panel connected');
      if (restored) emitLink('RESTORED', null, `RESTORED:${wasDown ?? 0}`);
      else emitLink('CONNECTED', null, `CONNECTED:${deps.fencing}:${status.connects}:${Date.now()}`);
      const request = (msg: Message) => c.request(msg);
      let state: PanelState = await readState(request, WATCHED_CMDS, id.extended);
      let announced = operatorView(state);
      await saveLive({
        state: JSON.stringify(state), link: 'up', last_seen: String(Date.now()), firmware: id.integra.raw, module: id.module.raw,
        panel_type: id.integra.typeName, link_down_since: '', link_lost_announced: '', link_error: '',
      });
      await pump.open();
      const onLeaseLost = (err: Error) => { leaseLost = err; c.close(err.message); };
      do await pump.read(c, id.integra.language); while (pump.walking && status.cursor === null); // first sight: set the cursor now
      pump.kick(onLeaseLost);
      let lastLogRead = performance.now();
      let lastLive = performance.now();
      let errorsInRow = 0;
      let next = performance.now() + random() * deps.pollIntervalMs;
      let lastStart: number | undefined;
      /** When a push asked for a log read (undefined: none asked). */
      let pushDue: number | undefined;
      let lastPushRead = 0;
      /** A push came since the last log read: its 0x7F flags are spent, so the next poll must read the log. */
      let pushedSinceRead = false;
      let liveDirty = false;
      const readLog = async (): Promise<void> => {
        lastLogRead = performance.now();
        pushedSinceRead = false;
        await pump.read(c, id.integra.language);
      };
      const flushLive = (): void => {
        if (!liveDirty) return;
        liveDirty = false;
        lastLive = performance.now();
        const view = operatorView(state);
        const announce = view !== announced;
        announced = view;
        // Not awaited: live state is best effort, and one Redis connection keeps the writes in order.
        void saveLive({ state: JSON.stringify(state), last_seen: String(Date.now()) }, announce);
      };
      onPush = (msg) => {
        let part: PanelState | undefined;
        try {
          part = pushedState(msg, state);
        } catch (err) {
          m.protocolErrors.inc({ code: codeOf(err) });
          log.warn({ cmd: msg.cmd, err: (err as Error).message }, 'pushed frame not understood; the next poll reads the state');
          return;
        }
        if (part === undefined) return;
        m.pushes.inc();
        if (stateChanged(state, part)) {
          state = { ...state, ...part };
          liveDirty = true; // written once at the next read, not once per pushed frame
        }
        // Read the log now (a burst of pushes makes one read per PUSH_READ_GAP_MS, not one each), if the budget allows.
        pushedSinceRead = true;
        if (pushDue !== undefined || deps.pushReadBudget?.() === false) return;
        pushDue = Math.max(performance.now(), lastPushRead + PUSH_READ_GAP_MS);
        wake?.();
      };
      // Names are read in spare moments of the poll cycle: never while records wait to be read or sent.
      let names: NameReader | undefined = namesWanted ? createNameReader({ partitions: 32, zones: id.extended ? 256 : 128 }) : undefined;
      const readNames = async (): Promise<void> => {
        if (!names || !deps.names || pump.walking || pump.pendingRecords > 0) return;
        try {
          await names.step(request, deps.names.budget, NAME_READS_PER_CYCLE);
        } catch (err) {
          // A module that does not answer 0xEE as expected must not cost a reconnect on every link: names
          // are a nicety, so this poller stops asking; the error is handled as any other of the cycle.
          names = undefined;
          namesWanted = false;
          log.warn({ err: (err as Error).message }, 'reading names from the panel failed; not asked again');
          throw err;
        }
        if (!names.done) return;
        const read = names.result();
        names = undefined;
        namesWanted = false;
        void deps.names.save(panel.id, read).then(
          (added) => log.info({ zones: read.zones.length, partitions: read.partitions.length, added }, 'zone and partition names read from the panel'),
          (err: Error) => { namesWanted = true; log.warn({ err: err.message }, 'names read from the panel not stored; read again on the next link'); },
        );
      };
      status.monitoring = deps.monitoring !== false && await askToMonitor(c);
      if (!status.monitoring) onPush = undefined;
      gate.open(request);
      while (!abort.signal.aborted && !c.closed) {
        await gate.runPending();
        await nap(Math.max(0, Math.min(next, pushDue ?? Infinity) - performance.now()));
        if (abort.signal.aborted || c.closed) break;
        if (gate.pending > 0) continue; // woken by a command: run it, then nap until the poll is due
        const started = performance.now();
        if (started < next - 1) {
          if (pushDue === undefined || started < pushDue - 1) continue;
          // A push-driven log read: the pushed frames already carried the state, so no 0x7F is needed.
          pushDue = undefined;
          lastPushRead = started;
          flushLive();
          try {
            await readLog();
            pump.kick(onLeaseLost);
            status.pendingRecords = pump.pendingRecords;
            status.pushReads++;
            errorsInRow = 0;
          } catch (err) {
            errorsInRow = await cycleFailed(err, errorsInRow);
          }
          continue;
        }
        next = Math.max(next + deps.pollIntervalMs, started);
        if (lastStart !== undefined) m.pollInterval.observe((started - lastStart) / 1000);
        lastStart = started;
        pushDue = undefined;
        try {
          const flags = decodeNewData(await c.request(encodeNewDataQuery()));
          const changed = WATCHED_CMDS.filter((cmd) => flags.has(cmd));
          if (changed.length > 0) {
            const read = await readState(request, changed, id.extended, state);
            if (stateChanged(state, read)) {
              state = { ...state, ...read };
              liveDirty = true;
            }
          }
          flushLive();
          if (changed.length > 0 || pushedSinceRead || pump.walking || performance.now() - lastLogRead >= deps.logSweepMs) await readLog();
          pump.kick(onLeaseLost);
          status.pendingRecords = pump.pendingRecords;
          await readNames();
          if (performance.now() - lastLive >= LIVE_HEARTBEAT_MS) {
            lastLive = performance.now();
            void saveLive({ last_seen: String(Date.now()) });
          }
          errorsInRow = 0;
          status.polls++;
          status.lastPollAt = Date.now();
          m.pollSeconds.observe((performance.now() - started) / 1000);
        } catch (err) {
          errorsInRow = await cycleFailed(err, errorsInRow);
        }
      }
      if (leaseLost) throw leaseLost;
      if (c.closed && !abort.signal.aborted) throw new StamError('E_SATEL_LINK', c.closeReason ?? 'link closed');
    } finally {
      gate.close(c.closeReason ?? (abort.signal.aborted ? 'poller stopped' : 'link closed'));
      m.connected.dec();
      c.close();
      // What was read but not acknowledged is read again on the next link; the batch in flight may still land.
      await pump.close();
    }
  }

  /** An outage this poller does not know of yet may have been started (and announced) by the panel's previous driver. */
  async function recallOutage(): Promise<void> {
    if (downSince !== undefined) return;
    const prev: Record<string, string> = await deps.live.load().catch(() => ({}));
    if (!prev.link_down_since) return;
    downSince = Number(prev.link_down_since);
    lostAnnounced = prev.link_lost_announced === '1';
  }

  /** Marks the link down (continuing a supervision a previous driver started) and announces LOST once it is overdue. */
  async function supervise(reason: string | null): Promise<void> {
    await recallOutage();
    downSince ??= Date.now();
    if (reason !== null) await saveLive({ link: 'down', link_down_since: String(downSince), link_error: reason });
    if (lostAnnounced || Date.now() - downSince < deps.supervisionMs) return;
    lostAnnounced = true;
    log.warn({ downSince, supervisionMs: deps.supervisionMs }, 'panel link lost beyond the supervision time');
    emitLink('LOST', `${status.lastError ?? 'link down'} (down since ${new Date(downSince).toISOString()})`, `LOST:${downSince}`,
      () => saveLive({ link_lost_announced: '1' }));
  }

  async function run(): Promise<void> {
    let attempt = 0;
    await sleep(random() * Math.min(deps.pollIntervalMs, 1_000), abort.signal);
    while (!abort.signal.aborted) {
      const connectsBefore = status.connects;
      try {
        await session();
      } catch (err) {
        if (abort.signal.aborted) break;
        const code = codeOf(err);
        if (code === 'E_SATEL_LEASE') {
          status.state = 'lease-lost';
          log.warn({ err: (err as Error).message }, 'lease lost; stopped polling');
          break;
        }
        m.protocolErrors.inc({ code });
        status.lastError = (err as Error).message;
        gate.close(status.lastError);
        log.warn({ code, err: status.lastError, attempt }, 'panel link failed');
      } finally {
        conn?.close();
      }
      if (abort.signal.aborted) break;
      if (status.connects > connectsBefore) attempt = 0;
      await supervise(status.lastError ?? 'link closed');
      m.reconnects.inc();
      m.backingOff.inc();
      status.state = 'backoff';
      const until = performance.now() + reconnectDelayMs(attempt++, random);
      // Sleep until the reconnect, waking up when the loss becomes overdue (LOST is then produced on time).
      while (!abort.signal.aborted && performance.now() < until) {
        const due = downSince !== undefined && !lostAnnounced ? downSince + deps.supervisionMs : Infinity;
        await sleep(Math.max(0, Math.min(until - performance.now(), due - Date.now())), abort.signal);
        if (!abort.signal.aborted && Date.now() >= due) await supervise(null);
      }
      m.backingOff.dec();
    }
    status.state = status.state === 'lease-lost' ? 'lease-lost' : 'stopped';
  }

  return {
    panel,
    status: (): PollerStatus => ({ ...status }),
    /** The panel link for commands (between polls; E_SATEL_LINK while the link is down). */
    commands: gate as PanelCommandPort,
    start(): void { loop = run(); },
    async stop(): Promise<void> {
      abort.abort();
      gate.close('poller stopped');
      wake?.();
      conn?.close('driver stopping');
      await loop;
    },
  };
}

export type PanelPoller = ReturnType<typeof createPanelPoller>;
