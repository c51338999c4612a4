/**
 * One link to a panel, from connect to its end: identify the module (0x7E, 0x7C), read the live state and
 * the event log, then every poll interval ask 0x7F what changed, read those state commands, and read the
 * log when a watched flag was set (or the log sweep is due). A module that offers monitoring mode (0x7F +
 * 12 bytes, ETHM-1 Plus) pushes the watched state frames the moment they change; a push updates the live
 * state and brings a log read forward, so an event is read within a round trip or two of happening instead
 * of waiting up to a poll interval. Polling goes on underneath, so nothing depends on a push. Arm/disarm
 * commands run whole between two poll cycles, through the command gate.
 *
 * How state and log relate — why nothing is counted twice:
 * the panel event log (0x8C) is the ONE source of SatelEvents. Each record is produced once with a
 * dedup_key made of (panel, index, record bytes): reading it again after a reconnect, a restart or by
 * another driver after failover yields the same key, and the processor keeps one row. Only the log can
 * be that source: it is ordered and indexed, it keeps what happened while the link was down, it keeps a
 * violation shorter than a poll interval, and it says how often something happened. A state bitmap says
 * none of that — a diff of two snapshots has no identity that two drivers would agree on. So state
 * reads drive the live state in Redis (fast display) and tell the session when to read the log; known
 * event codes get typed kinds (log-events.ts), so alarm rules written for ZONE_VIOLATION etc. apply to log
 * records too, and the rest is LOG_RECORD classified by its class. Nothing is produced from the diff.
 *
 * The cursor (newest acknowledged record) moves only after the broker acknowledged (acks -1) the records
 * up to it (log-pump.ts). A broker outage keeps the link polled (live state, keep-alive) and the read
 * records pending.
 */
import { performance } from 'node:perf_hooks';
import { keepsLink, sleep, StamError, type LogBudget, type Logger } from '../../../platform/index.ts';
import {
  Cmd, decodeIntegraVersion, decodeModuleVersion, decodeNewData, decodeResult, encodeMonitorRequest, encodeNewDataQuery, message,
  ResultCode, supportsExtendedAnswers, type Message,
} from '../protocol/index.ts';
import type { CommandGate } from './command-gate.ts';
import { PanelConnection, type FrameError } from './connection.ts';
import type { LinkSupervision } from './link-supervision.ts';
import { pushedState, readState, stateChanged, WATCHED_CMDS, type PanelState } from './live-state.ts';
import type { LogPump } from './log-pump.ts';
import { metrics as m } from './metrics.ts';
import { createNameReader, type NameReader } from './names.ts';
import { codeOf, type PanelTarget, type PollerDeps, type PollerStatus, type SaveLive } from './types.ts';

const MAX_ERRORS_IN_ROW = 5;
const LIVE_HEARTBEAT_MS = 5_000;
/** Pushes closer together than this share one log read. */
const PUSH_READ_GAP_MS = 20;
/** 0xEE name reads per poll cycle at most (a panel's names then take 160 / 8 = 20 cycles). */
const NAME_READS_PER_CYCLE = 8;

/** What a session shares with its poller, which outlives it (one poller, many links). */
export interface SessionContext {
  panel: PanelTarget;
  deps: PollerDeps;
  log: Logger;
  /** Lines about the panel's bad input go through this (a bounded number per minute, the rest counted). */
  lines: LogBudget;
  random: () => number;
  signal: AbortSignal;
  status: PollerStatus;
  gate: CommandGate;
  pump: LogPump;
  supervision: LinkSupervision;
  saveLive: SaveLive;
  /** The poll loop's sleep, woken early by `wake` (a command, a push, stop()). */
  nap: (ms: number) => Promise<void>;
  wake: () => void;
  /** Names still to be read from the panel (once per poller, and again only if storing them failed). */
  names: { wanted: boolean };
  /** Set when a newer driver's fencing ended this one's right to the panel (a cursor write found it). */
  leaseLost: { error: Error | undefined };
  /** Hands the poller this session's link (stop() closes it). */
  onLink: (c: PanelConnection) => void;
}

interface Identity { integra: ReturnType<typeof decodeIntegraVersion>; module: ReturnType<typeof decodeModuleVersion>; extended: boolean }

/** Runs one link until it ends (rejects with why) or the poller stops (resolves). */
export async function runSession(x: SessionContext): Promise<void> {
  const { panel, deps, log, status } = x;
  status.state = 'connecting';
  const c = new PanelConnection({
    host: panel.host, port: panel.port, connectTimeoutMs: deps.connectTimeoutMs, answerTimeoutMs: deps.answerTimeoutMs,
    keepAliveMs: deps.keepAliveMs, integrationKey: panel.integrationKey,
  });
  x.onLink(c);
  let loop: PollLoop | undefined;
  c.on('frameError', (e: FrameError) => { if (x.lines.allow('frame rejected')) log.warn({ code: e.code, reason: e.reason }, 'frame rejected'); });
  c.on('unsolicited', (msg: Message) => {
    if (loop?.acceptsPushes) loop.onPush(msg);
    else log.debug({ cmd: msg.cmd }, 'unsolicited frame ignored');
  });
  await c.connect();
  const id = await identify(c, deps.answerTimeoutMs);
  deps.checkLease();
  status.connects++;
  status.extended = id.extended;
  m.connected.inc();
  try {
    status.state = 'up';
    await x.supervision.up(status.connects); // a driver that took the panel over ends the outage its predecessor announced
    log.info({ host: panel.host, port: panel.port, type: id.integra.typeName, firmware: id.integra.raw, module: id.module.raw, extended: id.extended, encrypted: c.encrypted }, 'panel connected');
    const request = (msg: Message) => c.request(msg);
    const state = await readState(request, WATCHED_CMDS, id.extended);
    await x.saveLive({
      state: JSON.stringify(state), link: 'up', last_seen: String(Date.now()), firmware: id.integra.raw, module: id.module.raw,
      panel_type: id.integra.typeName, link_down_since: '', link_lost_announced: '', link_error: '',
    });
    await x.pump.open();
    const onLeaseLost = (err: Error) => { x.leaseLost.error = err; c.close(err.message); };
    do await x.pump.read(c, id.integra.language); while (x.pump.walking && status.cursor === null); // first sight: set the cursor now
    x.pump.kick(onLeaseLost);
    loop = new PollLoop(x, c, id, state, onLeaseLost);
    status.monitoring = deps.monitoring && await askToMonitor(c, log);
    loop.acceptsPushes = status.monitoring;
    x.gate.open(request);
    await loop.run();
    if (x.leaseLost.error) throw x.leaseLost.error;
    if (c.closed && !x.signal.aborted) throw new StamError('E_SATEL_LINK', c.closeReason ?? 'link closed');
  } finally {
    x.gate.close(c.closeReason ?? (x.signal.aborted ? 'poller stopped' : 'link closed'));
    m.connected.dec();
    c.close();
    // What was read but not acknowledged is read again on the next link; the batch in flight may still land.
    await x.pump.close();
  }
}

/** 0x7E then 0x7C; no answer at all is what an integration-encryption mismatch looks like, so say so. */
async function identify(c: PanelConnection, answerTimeoutMs: number): Promise<Identity> {
  try {
    const integra = decodeIntegraVersion(await c.request(message(Cmd.integraVersion)));
    const module = decodeModuleVersion(await c.request(message(Cmd.moduleVersion)));
    return { integra, module, extended: supportsExtendedAnswers(module, integra) };
  } catch (err) {
    if (codeOf(err) !== 'E_SATEL_TIMEOUT') throw err;
    const hint = c.encrypted
      ? 'integration encryption mismatch? (a key is configured for this panel: the module may not encrypt, or its key differs)'
      : 'integration encryption mismatch? (no key is configured for this panel: the module may have integration encryption on)';
    throw new StamError('E_SATEL_TIMEOUT', `no answer to identification (0x7E) within ${answerTimeoutMs} ms: ${hint}; or the module hangs`, { cause: err });
  }
}

/**
 * Monitoring mode for the watched state commands: `EF FF` means the module will push them; the plain
 * ETHM-1 answers `EF 08` (other error). No answer is treated as a refusal, not a link failure.
 */
async function askToMonitor(c: PanelConnection, log: Logger): Promise<boolean> {
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

/** What operators are shown of the state (see PollerDeps.live); a change of it is announced. */
const operatorView = (s: PanelState): string => JSON.stringify([s.partitionsArmed ?? [], s.partitionsAlarm ?? [], s.partitionsFireAlarm ?? []]);

/**
 * The identified link between polls: poll cycles at the interval, log reads that pushes bring forward,
 * names read in spare moments, commands between cycles (the gate). A failed cycle is retried on the same
 * link when the error keeps it (keepsLink) and not too often in a row; any other ends the session.
 */
class PollLoop {
  /** Pushes are handled (from the monitoring request on; off again if the module refused). */
  acceptsPushes = true;
  private readonly request: (msg: Message) => Promise<Message>;
  private announced: string;
  private liveDirty = false;
  private lastLive = performance.now();
  private lastLogRead = performance.now();
  private errorsInRow = 0;
  private next: number;
  private lastStart: number | undefined;
  /** When a push asked for a log read (undefined: none asked). */
  private pushDue: number | undefined;
  private lastPushRead = 0;
  /** A push came since the last log read: its 0x7F flags are spent, so the next poll must read the log. */
  private pushedSinceRead = false;
  /** Names are read in spare moments of the poll cycle: never while records wait to be read or sent. */
  private names: NameReader | undefined;

  constructor(
    private readonly x: SessionContext,
    private readonly c: PanelConnection,
    private readonly id: Identity,
    private state: PanelState,
    private readonly onLeaseLost: (err: Error) => void,
  ) {
    this.request = (msg) => c.request(msg);
    this.announced = operatorView(state);
    this.next = performance.now() + x.random() * x.deps.pollIntervalMs;
    this.names = x.names.wanted ? createNameReader({ partitions: 32, zones: id.extended ? 256 : 128 }) : undefined;
  }

  async run(): Promise<void> {
    const { x, c } = this;
    while (!x.signal.aborted && !c.closed) {
      await x.gate.runPending();
      await x.nap(Math.max(0, Math.min(this.next, this.pushDue ?? Infinity) - performance.now()));
      if (x.signal.aborted || c.closed) break;
      if (x.gate.pending > 0) continue; // woken by a command: run it, then nap until the poll is due
      const started = performance.now();
      if (started >= this.next - 1) await this.poll(started);
      else if (this.pushDue !== undefined && started >= this.pushDue - 1) await this.pushRead(started);
    }
  }

  onPush(msg: Message): void {
    let part: PanelState | undefined;
    try {
      part = pushedState(msg, this.state);
    } catch (err) {
      m.protocolErrors.inc({ code: codeOf(err) });
      if (this.x.lines.allow('pushed frame not understood')) this.x.log.warn({ cmd: msg.cmd, err: (err as Error).message }, 'pushed frame not understood; the next poll reads the state');
      return;
    }
    if (part === undefined) return;
    m.pushes.inc();
    this.merge(part); // written once at the next read, not once per pushed frame
    // Read the log now (a burst of pushes makes one read per PUSH_READ_GAP_MS, not one each), if the budget allows.
    this.pushedSinceRead = true;
    if (this.pushDue !== undefined || this.x.deps.pushReadBudget?.() === false) return;
    this.pushDue = Math.max(performance.now(), this.lastPushRead + PUSH_READ_GAP_MS);
    this.x.wake();
  }

  /** One poll cycle: 0x7F, the state commands it flags, the log when due, names, the live-state heartbeat. */
  private async poll(started: number): Promise<void> {
    const { x } = this;
    this.next = Math.max(this.next + x.deps.pollIntervalMs, started);
    if (this.lastStart !== undefined) m.pollInterval.observe((started - this.lastStart) / 1000);
    this.lastStart = started;
    this.pushDue = undefined;
    try {
      const flags = decodeNewData(await this.c.request(encodeNewDataQuery()));
      const changed = WATCHED_CMDS.filter((cmd) => flags.has(cmd));
      if (changed.length > 0) this.merge(await readState(this.request, changed, this.id.extended, this.state));
      this.flushLive();
      if (changed.length > 0 || this.pushedSinceRead || x.pump.walking || performance.now() - this.lastLogRead >= x.deps.logSweepMs) await this.readLog();
      this.kick();
      await this.readNames();
      if (performance.now() - this.lastLive >= LIVE_HEARTBEAT_MS) {
        this.lastLive = performance.now();
        void x.saveLive({ last_seen: String(Date.now()) });
      }
      this.errorsInRow = 0;
      x.status.polls++;
      x.status.lastPollAt = Date.now();
      m.pollSeconds.observe((performance.now() - started) / 1000);
    } catch (err) {
      await this.failed(err);
    }
  }

  /** A push-driven log read: the pushed frames already carried the state, so no 0x7F is needed. */
  private async pushRead(started: number): Promise<void> {
    this.pushDue = undefined;
    this.lastPushRead = started;
    this.flushLive();
    try {
      await this.readLog();
      this.kick();
      this.x.status.pushReads++;
      this.errorsInRow = 0;
    } catch (err) {
      await this.failed(err);
    }
  }

  private merge(part: PanelState): void {
    if (!stateChanged(this.state, part)) return;
    this.state = { ...this.state, ...part };
    this.liveDirty = true;
  }

  private async readLog(): Promise<void> {
    this.lastLogRead = performance.now();
    this.pushedSinceRead = false;
    await this.x.pump.read(this.c, this.id.integra.language);
  }

  /** Lets the produce loop send what was read (never awaited: a slow broker must not slow polling). */
  private kick(): void {
    this.x.pump.kick(this.onLeaseLost);
    this.x.status.pendingRecords = this.x.pump.pendingRecords;
  }

  private flushLive(): void {
    if (!this.liveDirty) return;
    this.liveDirty = false;
    this.lastLive = performance.now();
    const view = operatorView(this.state);
    const announce = view !== this.announced;
    this.announced = view;
    // Not awaited: live state is best effort, and one Redis connection keeps the writes in order.
    void this.x.saveLive({ state: JSON.stringify(this.state), last_seen: String(Date.now()) }, announce);
  }

  private async readNames(): Promise<void> {
    const { x } = this;
    if (!this.names || !x.deps.names || x.pump.walking || x.pump.pendingRecords > 0) return;
    try {
      await this.names.step(this.request, x.deps.names.budget, NAME_READS_PER_CYCLE);
    } catch (err) {
      // A module that does not answer 0xEE as expected must not cost a reconnect on every link: names
      // are a nicety, so this poller stops asking; the error is handled as any other of the cycle.
      this.names = undefined;
      x.names.wanted = false;
      x.log.warn({ err: (err as Error).message }, 'reading names from the panel failed; not asked again');
      throw err;
    }
    if (!this.names.done) return;
    const read = this.names.result();
    this.names = undefined;
    x.names.wanted = false;
    void x.deps.names.save(x.panel.id, read).then(
      (added) => x.log.info({ zones: read.zones.length, partitions: read.partitions.length, added }, 'zone and partition names read from the panel'),
      (err: Error) => { x.names.wanted = true; x.log.warn({ err: err.message }, 'names read from the panel not stored; read again on the next link'); },
    );
  }

  /** A failed cycle: the same link is tried again after a pause unless the error ends it (rethrown). */
  private async failed(err: unknown): Promise<void> {
    const code = codeOf(err);
    if (!keepsLink(err) || this.errorsInRow + 1 >= MAX_ERRORS_IN_ROW) throw err;
    this.errorsInRow++;
    m.protocolErrors.inc({ code });
    if (this.x.lines.allow('poll cycle failed')) this.x.log.warn({ code, err: (err as Error).message, errorsInRow: this.errorsInRow }, 'poll cycle failed; retrying on the same link');
    await sleep(100 * this.errorsInRow, this.x.signal);
  }
}
