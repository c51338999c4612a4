/**
 * Link supervision of one panel. It lives in the driver, not in the processor: the driver is the only one
 * that knows a link is down while nothing arrives, and the processor has no clock-driven work. A failed
 * link is shown at once in Redis (`link: down`, `link_down_since`); PanelLink LOST is produced only once
 * the loss has lasted LINK_SUPERVISION_S, so a reconnect within it is a plain CONNECTED and no alarm. LOST
 * and its RESTORED share the down-since time in their dedup keys, and `link_down_since` in Redis lets a
 * driver that takes the panel over continue the same supervision (same keys) instead of starting a new
 * one. A driver failover is not a link loss: the new holder simply connects.
 */
import { randomUUID } from 'node:crypto';
import { backoffMs, sleep, type Logger } from '../../../platform/index.ts';
import type { PanelLink, PanelLinkStatus } from '../../../schemas/index.ts';
import { metrics as m } from './metrics.ts';
import { codeOf, type PollerDeps, type SaveLive } from './types.ts';

interface LinkSupervisionDeps extends Pick<PollerDeps, 'fencing' | 'supervisionMs' | 'checkLease' | 'produceLink'> {
  panelId: number;
  log: Logger;
  signal: AbortSignal;
  /** The previous driver's view of the link (`panel:{id}:state`). */
  loadLive: () => Promise<Record<string, string>>;
  saveLive: SaveLive;
  /** Why the link last failed, for the LOST reason. */
  lastError: () => string | null;
}

export function createLinkSupervision(d: LinkSupervisionDeps) {
  let downSince: number | undefined;
  let lostAnnounced = false;

  /**
   * PanelLink events go out in order, in the background, retried until the broker takes them (a broker
   * outage must not hold up polling, and a RESTORED must not get lost while an alarm for the loss is open).
   */
  let chain: Promise<void> = Promise.resolve();
  const emit = (status: PanelLinkStatus, reason: string | null, key: string, onAck?: () => Promise<void>): void => {
    const event: PanelLink = {
      event_id: randomUUID(), panel_id: d.panelId, status, reason, observed_at: Date.now(), fencing: d.fencing,
      dedup_key: `link:${d.panelId}:${key}`, trace: null,
    };
    chain = chain.then(async () => {
      for (let attempt = 0; !d.signal.aborted; attempt++) {
        try {
          d.checkLease();
          await d.produceLink(event);
          m.links.inc({ status });
          await onAck?.();
          return;
        } catch (err) {
          if (codeOf(err) === 'E_SATEL_LEASE') return;
          d.log.warn({ status, err: (err as Error).message }, 'could not produce the link event; retrying');
          await sleep(backoffMs(attempt, 1_000, 30_000, Math.random, 'none'), d.signal);
        }
      }
    });
  };

  /** An outage this poller does not know of yet may have been started (and announced) by the panel's previous driver. */
  async function recall(): Promise<void> {
    if (downSince !== undefined) return;
    const prev: Record<string, string> = await d.loadLive().catch(() => ({}));
    if (!prev.link_down_since) return;
    downSince = Number(prev.link_down_since);
    lostAnnounced = prev.link_lost_announced === '1';
  }

  return {
    /**
     * A link is up (identified): the outage, if any, is over — RESTORED when its LOST was announced (by this
     * driver or the previous one), CONNECTED otherwise. `connects` counts this poller's links.
     */
    async up(connects: number): Promise<void> {
      await recall();
      const wasDown = downSince;
      const restored = lostAnnounced;
      downSince = undefined;
      lostAnnounced = false;
      // Forget the outage in Redis now, not after the first state read, or a link that dies during that
      // read would continue the old outage and announce LOST early.
      if (wasDown !== undefined) await d.saveLive({ link: 'up', link_down_since: '', link_lost_announced: '', link_error: '' });
      if (restored) emit('RESTORED', null, `RESTORED:${wasDown ?? 0}`);
      else emit('CONNECTED', null, `CONNECTED:${d.fencing}:${connects}:${Date.now()}`);
    },

    /**
     * Marks the link down (continuing a supervision a previous driver started) and announces LOST once it is
     * overdue. `reason` null: only the check, nothing new to write.
     */
    async down(reason: string | null): Promise<void> {
      await recall();
      downSince ??= Date.now();
      if (reason !== null) await d.saveLive({ link: 'down', link_down_since: String(downSince), link_error: reason });
      if (lostAnnounced || Date.now() - downSince < d.supervisionMs) return;
      lostAnnounced = true;
      d.log.warn({ downSince, supervisionMs: d.supervisionMs }, 'panel link lost beyond the supervision time');
      emit('LOST', `${d.lastError() ?? 'link down'} (down since ${new Date(downSince).toISOString()})`, `LOST:${downSince}`,
        () => d.saveLive({ link_lost_announced: '1' }));
    },

    /** When (epoch ms) the current loss becomes overdue and LOST is due; Infinity when none is pending. */
    lostDueAt(): number {
      return downSince !== undefined && !lostAnnounced ? downSince + d.supervisionMs : Infinity;
    },
  };
}

export type LinkSupervision = ReturnType<typeof createLinkSupervision>;
