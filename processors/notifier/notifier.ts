import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { openAmqpLink, type AmqpLink } from '../../commands/index.ts';
import { backoffMs, isPoison, isStamError, sleep, type Logger, type Pool, type ReadinessCheck } from '../../platform/index.ts';
import { PUSH_DEAD_QUEUE, PUSH_DLX, PUSH_QUEUE, PUSH_ROUTING_KEY, declarePushTopology } from '../outbox-relay.ts';
import { attemptJob, type AttemptResult } from './attempt.ts';
import type { FcmClient } from './fcm.ts';
import { parsePushJob, type PushJob } from './job.ts';
import { m } from './metrics.ts';
import { markDeadLettered, pruneStaleDevices } from './store.ts';

export interface NotifierOptions {
  url: string;
  pool: Pool;
  log: Logger;
  quorum: boolean;
  /** Makes an FCM client from the credentials file; called again after a credential error (the file may have been fixed). */
  fcm: () => FcmClient;
  prefetch: number;
  concurrency: number;
  ttlS: number;
  retry: { baseMs: number; maxMs: number; quotaMs: number; deadlineMs: number };
  credentialRetryMs: number;
  staleDays: number;
}

/** Headers a dead-lettered push job carries: why, in a code from the catalogue and in words. */
export const DEAD_LETTER_HEADERS = { code: 'x-push-error-code', reason: 'x-push-reason', at: 'x-push-dead-lettered-at' } as const;

const safely = (f: () => void): void => { try { f(); } catch { /* channel gone: the broker redelivers */ } };

/** A counting semaphore: at most `n` jobs talk to FCM (each holding a PostgreSQL connection) at once. */
function slots(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    take: () => (free > 0 ? (free--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r))),
    release: () => { const next = waiting.shift(); if (next) next(); else free++; },
  };
}

/**
 * `stam notifier`: consumes `notifications.push` (manual acks, prefetch) and sends each CRITICAL alarm
 * opening to the devices the recipient rules name, once per device (attempt.ts and the push_sends
 * ledger). What FCM answers decides what happens (outcome.ts): unregistered or invalid tokens are
 * removed, quota/unavailable/internal errors retried with backoff and jitter while the job stays
 * unacknowledged (a crash redelivers it), and past FCM_RETRY_DEADLINE_S the job is dead-lettered with the
 * reason (republished to `notifications.push.dlq` with publisher confirms, then acknowledged). A refused
 * credential stops all sending: the consumer is cancelled, jobs go back to the queue, /readyz fails and
 * `stam_notifier_credential_failed` is 1 until the service account is accepted again.
 */
export function createNotifier(o: NotifierOptions) {
  const { log, pool } = o;
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();
  const held = new Map<ConsumeMessage, number>();
  const sending = slots(o.concurrency);
  let fcm: FcmClient | undefined;
  let link: AmqpLink | undefined;
  let consumer: { ch: ConfirmChannel; tag: string } | undefined;
  let stopping = false;
  let paused: string | undefined;
  let recovery: NodeJS.Timeout | undefined;
  let housekeeping: NodeJS.Timeout | undefined;
  let lastPrune = 0;

  async function deadLetter(ch: ConfirmChannel, msg: ConsumeMessage, code: string, reason: string): Promise<void> {
    const headers = { ...msg.properties.headers, [DEAD_LETTER_HEADERS.code]: code, [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 1000), [DEAD_LETTER_HEADERS.at]: new Date().toISOString() };
    try {
      await new Promise<void>((resolve, reject) => {
        ch.publish(PUSH_DLX, PUSH_ROUTING_KEY, msg.content, { ...msg.properties, persistent: true, headers }, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error('dead letter refused by the broker')) : resolve()));
      });
    } catch (err) {
      log.error({ messageId: msg.properties.messageId as unknown, err: (err as Error).message }, 'push job could not be dead-lettered; requeued');
      safely(() => ch.nack(msg, false, true));
      m.jobs.inc({ outcome: 'requeued' });
      return;
    }
    safely(() => ch.ack(msg));
    m.jobs.inc({ outcome: code === 'E_PUSH_JOB_INVALID' ? 'invalid' : 'dead_lettered' });
    log.error({ messageId: msg.properties.messageId as unknown, code, reason }, 'push job dead-lettered');
  }

  function requeue(ch: ConfirmChannel, msg: ConsumeMessage): void {
    safely(() => ch.nack(msg, false, true));
    m.jobs.inc({ outcome: 'requeued' });
  }

  /** One attempt with a free slot; a credential refused before sending is raised as E_FCM_CREDENTIAL. */
  async function attempt(job: PushJob): Promise<AttemptResult> {
    await sending.take();
    try {
      const client = fcm!;
      await client.check();
      return await attemptJob({ pool, fcm: client, log, ttlS: o.ttlS }, job);
    } finally {
      sending.release();
    }
  }

  /** How long to wait before the next attempt: backoff with jitter, at least the quota wait after a 429, never past the deadline. */
  function nextWait(r: Extract<AttemptResult, { kind: 'sent' }>, elapsedMs: number): number {
    const quota = r.retry.some((x) => x.quota) ? o.retry.quotaMs + Math.round(Math.random() * o.retry.quotaMs * 0.25) : 0;
    return Math.max(0, Math.min(Math.max(backoffMs(r.attempts - 1, o.retry.baseMs, o.retry.maxMs), quota), o.retry.deadlineMs - elapsedMs));
  }

  async function handle(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    let job: PushJob;
    try {
      job = parsePushJob(msg.content);
    } catch (err) {
      await deadLetter(ch, msg, 'E_PUSH_JOB_INVALID', (err as Error).message);
      return;
    }
    const seenAt = Date.now();
    for (let failures = 0; ;) {
      if (stopping || paused) { requeue(ch, msg); return; }
      let r: AttemptResult;
      try {
        r = await attempt(job);
      } catch (err) {
        if (isStamError(err, 'E_FCM_CREDENTIAL')) { pause(err.message); requeue(ch, msg); return; }
        if (isPoison(err)) { await deadLetter(ch, msg, isStamError(err) ? err.code : 'E_EVENT_INVALID', (err as Error).message); return; }
        const unavailable = isStamError(err, 'E_FCM_UNAVAILABLE');
        if (unavailable && Date.now() - seenAt >= o.retry.deadlineMs) { await deadLetter(ch, msg, 'E_FCM_UNAVAILABLE', (err as Error).message); return; }
        const wait = backoffMs(failures++, o.retry.baseMs, o.retry.maxMs);
        log.warn({ alarm: job.alarm_id, err: (err as Error).message, waitMs: wait }, 'push attempt failed before FCM answered; retrying');
        await sleep(wait, abort.signal);
        continue;
      }
      if (r.kind === 'skipped') {
        safely(() => ch.ack(msg));
        m.jobs.inc({ outcome: r.reason });
        if (r.reason === 'no_recipients' || r.reason === 'unknown_alarm') log.warn({ alarm: job.alarm_id, object: job.object_id, reason: r.reason }, 'CRITICAL alarm pushed to nobody');
        else log.info({ alarm: job.alarm_id, reason: r.reason }, 'push job settled without sending');
        return;
      }
      if (r.credential) { pause(r.credential); requeue(ch, msg); return; }
      if (r.retry.length === 0) {
        if (r.rejected.length > 0) await deadLetter(ch, msg, 'E_FCM_REJECTED', `FCM rejected the message: ${r.rejected.join('; ')}`);
        else { safely(() => ch.ack(msg)); m.jobs.inc({ outcome: 'sent' }); }
        return;
      }
      const elapsed = Date.now() - r.firstAttemptMs;
      const reasons = [...new Set(r.retry.map((x) => x.reason))].join('; ');
      if (elapsed >= o.retry.deadlineMs) {
        const reason = `still failing after ${r.attempts} attempts in ${Math.round(elapsed / 1000)} s (devices ${r.retry.map((x) => x.deviceId).join(', ')}): ${reasons}`;
        await markDeadLettered(pool, job.alarm_id, reason).catch((err: Error) => log.warn({ err: err.message }, 'dead-lettered sends not marked'));
        await deadLetter(ch, msg, 'E_FCM_UNAVAILABLE', reason);
        return;
      }
      const wait = nextWait(r, elapsed);
      log.warn({ alarm: job.alarm_id, devices: r.retry.length, attempt: r.attempts, waitMs: wait, reason: reasons }, 'FCM did not accept every send; retrying');
      await sleep(wait, abort.signal);
    }
  }

  function onMessage(ch: ConfirmChannel, msg: ConsumeMessage | null): void {
    if (!msg) { log.warn('push consumer cancelled by the broker; reconnecting'); void ch.close().catch(() => undefined); return; }
    const published = Number(msg.properties.headers?.['x-published-at'] ?? (msg.properties.timestamp ? Number(msg.properties.timestamp) * 1000 : Date.now()));
    held.set(msg, Number.isFinite(published) ? published : Date.now());
    const p = handle(ch, msg).catch((err: Error) => { log.error({ err: err.message }, 'push job failed; requeued'); requeue(ch, msg); });
    inflight.add(p);
    void p.finally(() => { inflight.delete(p); held.delete(msg); });
  }

  async function consume(ch: ConfirmChannel): Promise<void> {
    if (stopping || paused || consumer?.ch === ch) return;
    const { consumerTag } = await ch.consume(PUSH_QUEUE, (msg) => onMessage(ch, msg), { noAck: false });
    consumer = { ch, tag: consumerTag };
    log.info({ queue: PUSH_QUEUE, prefetch: o.prefetch, concurrency: o.concurrency }, 'notifier consuming');
  }

  async function cancel(): Promise<void> {
    const c = consumer;
    consumer = undefined;
    if (c && link?.channel === c.ch) await c.ch.cancel(c.tag).catch(() => undefined);
  }

  /** Credential refused: stop taking jobs, raise the alert, and try a fresh client every credentialRetryMs. */
  function pause(reason: string): void {
    if (paused || stopping) return;
    paused = reason;
    m.credentialFailed.set(1);
    log.error({ reason }, 'FCM refused the credential: sending stopped until it is accepted again (check FCM_CREDENTIALS_FILE)');
    void cancel();
    const retry = () => {
      recovery = setTimeout(() => void recover().then((ok) => { if (!ok) retry(); }), o.credentialRetryMs);
    };
    retry();
  }

  async function recover(): Promise<boolean> {
    if (stopping) return true;
    let next: FcmClient | undefined;
    try {
      next = o.fcm();
      await next.check();
    } catch (err) {
      await next?.close();
      log.warn({ err: (err as Error).message }, 'FCM credential still refused');
      return false;
    }
    const old = fcm;
    fcm = next;
    await old?.close();
    paused = undefined;
    m.credentialFailed.set(0);
    log.info('FCM credential accepted again; sending resumes');
    if (link?.channel) await consume(link.channel);
    return true;
  }

  async function measure(): Promise<void> {
    const now = Date.now();
    m.oldestAge.set(held.size === 0 ? 0 : Math.max(0, (now - Math.min(...held.values())) / 1000));
    const ch = link?.channel;
    if (ch) {
      m.queueDepth.set((await ch.checkQueue(PUSH_QUEUE)).messageCount);
      m.deadLetterDepth.set((await ch.checkQueue(PUSH_DEAD_QUEUE)).messageCount);
    }
    if (now - lastPrune > 6 * 3600_000) {
      lastPrune = now;
      const pruned = await pruneStaleDevices(pool, o.staleDays);
      m.prunedDevices.inc(pruned);
      if (pruned > 0) log.info({ pruned, staleDays: o.staleDays }, 'stale device tokens pruned');
    }
  }

  return {
    checks: [
      { name: 'fcm', check: () => (paused ? Promise.reject(new Error(`FCM credential refused: ${paused}`)) : Promise.resolve()) },
      { name: 'rabbitmq', check: () => (link?.channel ? Promise.resolve() : Promise.reject(new Error(link?.setupError ?? 'RabbitMQ not connected'))) },
    ] satisfies ReadinessCheck[],
    async start(): Promise<void> {
      fcm = o.fcm(); // an unreadable or malformed credentials file stops the role here, naming the file
      await fcm.check().catch((err: unknown) => {
        if (isStamError(err, 'E_FCM_CREDENTIAL')) pause(err.message);
        else if (isStamError(err, 'E_FCM_UNAVAILABLE')) log.warn({ err: err.message }, 'FCM token endpoint not reachable yet; jobs wait and retry');
        else throw err;
      });
      link = await openAmqpLink({
        url: o.url, name: 'notifier', log, waitForConnect: false,
        setup: async (ch) => {
          await declarePushTopology(ch, o.quorum);
          await ch.prefetch(o.prefetch);
          consumer = undefined;
          await consume(ch);
        },
      });
      housekeeping = setInterval(() => void measure().catch((err: Error) => log.warn({ err: err.message }, 'notifier housekeeping failed')), 5_000);
      void measure().catch(() => undefined);
    },
    async stop(): Promise<void> {
      stopping = true;
      clearTimeout(recovery);
      clearInterval(housekeeping);
      await cancel();
      abort.abort();
      await Promise.allSettled([...inflight]);
      await link?.close();
      await fcm?.close();
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
