/**
 * The reconnect loop of one panel: a session per link, and after a failed or lost link a backoff of
 * 1 → 2 → 4 → 8 → 16 → 30 s (±25 % jitter, so 500 panels that lost the network together do not reconnect
 * in step), reset once a link came up. While it waits, link supervision is kept on time: the wait wakes
 * when the loss becomes overdue, so LOST is produced at LINK_SUPERVISION_S, not at the next attempt.
 */
import { performance } from 'node:perf_hooks';
import { backoffMs, sleep, type Logger } from '../../../platform/index.ts';
import type { LinkSupervision } from './link-supervision.ts';
import { metrics as m } from './metrics.ts';
import { codeOf, type PollerStatus } from './types.ts';

/** Reconnect delay after `attempt` failures in a row: 1, 2, 4, 8, 16, 30, 30 … s, each ±25 % jitter. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  return backoffMs(attempt, 1_000, 30_000, random, 'around');
}

interface ReconnectLoopDeps {
  log: Logger;
  signal: AbortSignal;
  random: () => number;
  pollIntervalMs: number;
  status: PollerStatus;
  supervision: LinkSupervision;
  /** One link, from connect to its end: resolves when stopped, rejects with why the link ended. */
  session: () => Promise<void>;
  /** A session ended with `reason`: commands waiting for the link fail now. */
  linkFailed: (reason: string) => void;
  /** Closes whatever is left of the session's link. */
  closeLink: () => void;
}

/** Runs sessions until stopped or the lease is lost (status.state then says which). */
export async function runReconnectLoop(d: ReconnectLoopDeps): Promise<void> {
  const { log, signal, status } = d;
  let attempt = 0;
  // Panels of one driver start spread over a poll interval (at most a second), not all at once.
  await sleep(d.random() * Math.min(d.pollIntervalMs, 1_000), signal);
  while (!signal.aborted) {
    const connectsBefore = status.connects;
    try {
      await d.session();
    } catch (err) {
      if (signal.aborted) break;
      const code = codeOf(err);
      if (code === 'E_SATEL_LEASE') {
        status.state = 'lease-lost';
        log.warn({ err: (err as Error).message }, 'lease lost; stopped polling');
        break;
      }
      m.protocolErrors.inc({ code });
      status.lastError = (err as Error).message;
      d.linkFailed(status.lastError);
      log.warn({ code, err: status.lastError, attempt }, 'panel link failed');
    } finally {
      d.closeLink();
    }
    if (signal.aborted) break;
    if (status.connects > connectsBefore) attempt = 0;
    await d.supervision.down(status.lastError ?? 'link closed');
    m.reconnects.inc();
    m.backingOff.inc();
    status.state = 'backoff';
    await backOff(d, reconnectDelayMs(attempt++, d.random));
    m.backingOff.dec();
  }
  status.state = status.state === 'lease-lost' ? 'lease-lost' : 'stopped';
}

/** Sleeps until the reconnect, waking up when the loss becomes overdue (LOST is then produced on time). */
async function backOff(d: ReconnectLoopDeps, delayMs: number): Promise<void> {
  const until = performance.now() + delayMs;
  while (!d.signal.aborted && performance.now() < until) {
    const due = d.supervision.lostDueAt();
    await sleep(Math.max(0, Math.min(until - performance.now(), due - Date.now())), d.signal);
    if (!d.signal.aborted && Date.now() >= due) await d.supervision.down(null);
  }
}
