/**
 * Supervision of the modem itself, as of a panel link: a modem unreachable (port gone, no answer, SIM not
 * ready) for longer than SMS_SUPERVISION_S is an alarm — MODEM_DOWN, once per outage — and MODEM_RESTORED
 * follows when it answers again; both keyed by the outage's start, which sms_modem_state keeps across a
 * restart of the driver so an outage is neither announced twice nor restored by a stranger.
 */
import { modemEvent } from '../core/index.ts';
import { backoffMs, sleep, type Logger, type Pool } from '../../../platform/index.ts';
import type { SmsEvent } from '../../../schemas/index.ts';
import { metrics as m } from './metrics.ts';

const MODEM_ID = 'modem';

export function createModemSupervision(o: { supervisionMs: number; pool: Pool; produce: (e: SmsEvent[]) => Promise<void>; log: Logger }) {
  let downSince: number | undefined;
  let announced = false;
  let lastReason = 'not answering';
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const abort = new AbortController();

  const save = () => o.pool.query(
    `INSERT INTO sms_modem_state (modem, down_since, down_announced, updated_at) VALUES ($1, to_timestamp($2 / 1000.0), $3, now())
     ON CONFLICT (modem) DO UPDATE SET down_since = EXCLUDED.down_since, down_announced = EXCLUDED.down_announced, updated_at = now()`,
    [MODEM_ID, downSince ?? null, announced],
  ).then(() => undefined, (err: Error) => o.log.warn({ err: err.message }, 'modem supervision state not saved'));

  /** Produces in order, retried until the broker takes it (an outage of the broker must not lose the alarm). */
  const emit = (event: SmsEvent, then: () => void): void => {
    chain = chain.then(async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try { await o.produce([event]); then(); await save(); return; } catch (err) {
          o.log.warn({ err: (err as Error).message, kind: event.kind }, 'modem supervision event not acknowledged; retrying');
          await sleep(backoffMs(attempt, 500, 10_000), abort.signal);
        }
      }
    });
  };

  function check(): void {
    if (downSince === undefined || announced || Date.now() - downSince < o.supervisionMs) return;
    announced = true;
    m.modemDown.inc();
    o.log.error({ downSince: new Date(downSince).toISOString(), reason: lastReason }, 'GSM modem down beyond the supervision time: alarm');
    emit(modemEvent('MODEM_DOWN', downSince, `GSM modem down since ${new Date(downSince).toISOString()}: ${lastReason}`, Date.now()), () => undefined);
  }

  return {
    /** Continues an outage a previous run of the driver started. */
    async load(): Promise<void> {
      const { rows } = await o.pool.query<{ t: number | null; announced: boolean }>(
        `SELECT (extract(epoch from down_since) * 1000)::float8 AS t, down_announced AS announced FROM sms_modem_state WHERE modem = $1`, [MODEM_ID]);
      if (rows[0]?.t != null) { downSince = rows[0].t; announced = rows[0].announced; }
    },
    down(reason: string): void {
      lastReason = reason;
      m.modemUp.set(0);
      if (downSince === undefined) {
        downSince = Date.now();
        void save();
      }
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(0, downSince + o.supervisionMs - Date.now()) + 10);
      check();
    },
    up(): void {
      m.modemUp.set(1);
      clearTimeout(timer);
      if (downSince === undefined) return;
      const since = downSince;
      const wasAnnounced = announced;
      downSince = undefined;
      announced = false;
      if (wasAnnounced) emit(modemEvent('MODEM_RESTORED', since, `GSM modem answering again (down since ${new Date(since).toISOString()})`, Date.now()), () => undefined);
      else void save();
    },
    get downSince() { return downSince; },
    async stop(): Promise<void> {
      clearTimeout(timer);
      abort.abort();
      await chain;
    },
  };
}

export type ModemSupervision = ReturnType<typeof createModemSupervision>;
