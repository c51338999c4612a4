/**
 * One panel kept polled, link after link, for as long as this driver holds it. In three parts:
 * - session.ts: one link — identify, live state, event log, monitoring pushes, keep-alive, commands between
 *   polls; why the event log, not the state, is the one source of events;
 * - link-supervision.ts: down-since, PanelLink LOST after LINK_SUPERVISION_S and its RESTORED, their dedup keys;
 * - reconnect.ts: the loop of sessions with backoff 1 → 2 → 4 → 8 → 16 → 30 s (±25 % jitter).
 * This file wires them for one panel and is what the driver sees: start, stop, status, the command port.
 */
import { createLogBudget } from '../../../platform/index.ts';
import { metrics as m } from './metrics.ts';
import { createCommandGate, type PanelCommandPort } from './command-gate.ts';
import type { PanelConnection } from './connection.ts';
import { createLinkSupervision } from './link-supervision.ts';
import { createLogPump } from './log-pump.ts';
import { runReconnectLoop } from './reconnect.ts';
import { runSession, type SessionContext } from './session.ts';
import type { PanelTarget, PollerDeps, PollerStatus } from './types.ts';

export type { PanelTarget, PollerDeps, PollerStatus } from './types.ts';

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
  /** The poll loop's sleep, woken by stop() (cheaper than an AbortSignal listener per cycle). */
  let wake: (() => void) | undefined;
  const nap = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(t); wake = undefined; resolve(); };
  });
  /** Arm/disarm commands (driver-commands.ts): run whole between two poll cycles; a new one wakes the nap. */
  const gate = createCommandGate({ onSubmit: () => wake?.() });
  const saveLive = (fields: Record<string, string>, announce = 'link' in fields): Promise<void> =>
    deps.live.save({ ...fields, driver_fencing: String(deps.fencing) }, announce).catch((err: Error) => log.warn({ err: err.message }, 'live state not written to Redis'));
  const supervision = createLinkSupervision({
    panelId: panel.id, fencing: deps.fencing, supervisionMs: deps.supervisionMs, checkLease: deps.checkLease, produceLink: deps.produceLink,
    log, signal: abort.signal, loadLive: () => deps.live.load(), saveLive, lastError: () => status.lastError,
  });
  const pump = createLogPump({
    panelId: panel.id, port: panel.port, fencing: deps.fencing, logCatchUpMax: deps.logCatchUpMax, readBudgetMs: Math.max(50, deps.pollIntervalMs / 2), log, cursors: deps.cursors,
    checkLease: deps.checkLease, produce: deps.produce, texts: deps.texts, traces: deps.traces,
    onCursor: (c) => { status.cursor = c; },
    onGap: () => { status.gaps++; },
  });
  // One budget for the poller's lifetime, so a panel that sends garbage on every link stays bounded across reconnects.
  const lines = createLogBudget({ perMinute: deps.logLinesPerMinute, log, onSuppressed: (kind, n) => m.logLinesHeld.inc({ kind }, n) });
  const session: SessionContext = {
    panel, deps, log, lines, random, signal: abort.signal, status, gate, pump, supervision, saveLive, nap, wake: () => wake?.(),
    names: { wanted: panel.namesMissing === true && deps.names !== undefined },
    leaseLost: { error: undefined },
    onLink: (c: PanelConnection) => { conn = c; },
  };

  return {
    panel,
    status: (): PollerStatus => ({ ...status }),
    /** The panel link for commands (between polls; E_SATEL_LINK while the link is down). */
    commands: gate as PanelCommandPort,
    start(): void {
      loop = runReconnectLoop({
        log, signal: abort.signal, random, pollIntervalMs: deps.pollIntervalMs, status, supervision,
        session: () => runSession(session),
        linkFailed: (reason) => gate.close(reason),
        closeLink: () => conn?.close(),
      });
    },
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
