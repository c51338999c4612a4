import { inTransaction, type Logger, type Pool } from '../../platform/index.ts';
import type { FcmClient } from './fcm.ts';
import type { PushJob } from './job.ts';
import { alarmMessage, type AlarmContext } from './message.ts';
import { m } from './metrics.ts';
import { decide, type SendDecision } from './outcome.ts';
import {
  alarmContext, claimSends, quarantineDevices, recipients, recordResults, removeDevices, type Claimed, type DeviceResult,
} from './store.ts';

/** Why a job is settled without any send. */
export type SkipReason = 'unknown_alarm' | 'not_critical' | 'service_mode' | 'test_mode' | 'alarm_closed' | 'no_recipients' | 'already_sent';

export type AttemptResult =
  | { kind: 'skipped'; reason: SkipReason }
  | {
    kind: 'sent';
    accepted: number;
    removed: number;
    quarantined: number;
    /** Devices FCM refused the message for (payload): retrying cannot help. */
    rejected: string[];
    /** Devices to try again, the reason of each, and whether FCM said "quota". */
    retry: { deviceId: number; reason: string; quota: boolean }[];
    /** First attempt of the oldest device still to send: where the retry deadline counts from. */
    firstAttemptMs: number;
    attempts: number;
    /** Set when FCM refused our credential: nothing more is sent until it works again. */
    credential?: string;
  };

export interface AttemptDeps { pool: Pool; fcm: FcmClient; log: Logger; ttlS: number }

/** Why an alarm is not pushed now, whatever the job said: checked at send time, the mode may have changed. */
export function skipReason(a: AlarmContext | undefined): SkipReason | undefined {
  if (!a) return 'unknown_alarm';
  if (a.severity !== 'CRITICAL') return 'not_critical';
  if (a.serviceMode) return 'service_mode';
  if (a.testMode) return 'test_mode';
  if (a.status === 'RESOLVED' || a.status === 'CLOSED') return 'alarm_closed';
  return undefined;
}

const FCM_BATCH = 500;

async function sendAll(deps: AttemptDeps, ctx: AlarmContext, claimed: Claimed[]): Promise<SendDecision[]> {
  const decisions: SendDecision[] = [];
  for (let i = 0; i < claimed.length; i += FCM_BATCH) {
    const chunk = claimed.slice(i, i + FCM_BATCH);
    const started = performance.now();
    try {
      const res = await deps.fcm.send(alarmMessage(ctx, chunk.map((c) => c.token), deps.ttlS));
      m.fcmBatchSeconds.observe((performance.now() - started) / 1000);
      const now = Date.now();
      res.responses.forEach((r, k) => {
        const d = decide({ success: r.success, ...(r.messageId ? { messageId: r.messageId } : {}), ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}) });
        if (d.kind === 'accepted') m.latency.observe(Math.max(0, now - ctx.openedMs) / 1000);
        decisions[i + k] = d;
      });
    } catch (err) {
      // The whole batch failed (the SDK refused it before sending): nothing was accepted.
      const reason = `batch failed: ${(err as Error).message}`.slice(0, 300);
      for (let k = 0; k < chunk.length; k++) decisions[i + k] = { kind: 'retry', reason, quota: false };
    }
  }
  return decisions;
}

/**
 * One attempt at a job, in one transaction: re-read the alarm and its object, find the recipients by the
 * rules, claim the sends not made yet (the rows stay locked until the outcome is written), send, and write
 * what FCM said for each device — its message name, or the device removed/quarantined, or the error to
 * retry. A crash before the commit leaves no claim: a redelivered job sends to those devices again (the
 * tag makes the phone replace, not add, a notification it may already show).
 */
export async function attemptJob(deps: AttemptDeps, job: PushJob): Promise<AttemptResult> {
  return inTransaction(deps.pool, async (db) => {
    const ctx = await alarmContext(db, job.alarm_id);
    const skip = skipReason(ctx);
    if (skip || !ctx) return { kind: 'skipped', reason: skip ?? 'unknown_alarm' };
    const devices = await recipients(db, ctx.objectId);
    if (devices.length === 0) return { kind: 'skipped', reason: 'no_recipients' };
    const claimed = await claimSends(db, ctx.alarmId, devices);
    if (claimed.length === 0) return { kind: 'skipped', reason: 'already_sent' };

    const decisions = await sendAll(deps, ctx, claimed);
    const results: DeviceResult[] = [];
    const removed: number[] = [];
    const quarantined: number[] = [];
    const rejected: string[] = [];
    const retry: { deviceId: number; reason: string; quota: boolean }[] = [];
    let credential: string | undefined;
    claimed.forEach((c, i) => {
      const d = decisions[i]!;
      m.sends.inc({ outcome: d.kind });
      switch (d.kind) {
        case 'accepted': results.push({ deviceId: c.deviceId, outcome: 'accepted', name: d.name }); break;
        case 'remove_token': removed.push(c.deviceId); results.push({ deviceId: c.deviceId, outcome: 'token_removed', error: d.reason }); break;
        case 'quarantine': quarantined.push(c.deviceId); results.push({ deviceId: c.deviceId, outcome: 'quarantined', error: d.reason }); break;
        case 'rejected': rejected.push(`device ${c.deviceId}: ${d.reason}`); results.push({ deviceId: c.deviceId, outcome: 'rejected', error: d.reason }); break;
        case 'retry': retry.push({ deviceId: c.deviceId, reason: d.reason, quota: d.quota }); results.push({ deviceId: c.deviceId, outcome: 'pending', error: d.reason }); break;
        case 'credential':
          credential ??= d.reason;
          retry.push({ deviceId: c.deviceId, reason: d.reason, quota: false });
          results.push({ deviceId: c.deviceId, outcome: 'pending', error: d.reason });
          break;
      }
    });
    await recordResults(db, ctx.alarmId, results);
    const firstRemoved = removed.length > 0 ? decisions[claimed.findIndex((c) => c.deviceId === removed[0])] : undefined;
    await removeDevices(db, removed, firstRemoved && 'reason' in firstRemoved ? firstRemoved.reason : 'unregistered', ctx.alarmId);
    await quarantineDevices(db, quarantined, 'FCM: token of another Firebase project (mismatched-credential)', ctx.alarmId);
    if (removed.length > 0) deps.log.warn({ alarm: ctx.alarmId, devices: removed }, 'FCM: tokens unregistered or invalid; devices removed');
    if (quarantined.length > 0) deps.log.warn({ alarm: ctx.alarmId, devices: quarantined }, 'FCM: tokens of another project; devices quarantined');
    const pending = claimed.filter((c) => retry.some((r) => r.deviceId === c.deviceId));
    return {
      kind: 'sent', accepted: results.filter((r) => r.outcome === 'accepted').length, removed: removed.length, quarantined: quarantined.length,
      rejected, retry, attempts: Math.max(...claimed.map((c) => c.attempts)),
      firstAttemptMs: Math.min(...(pending.length > 0 ? pending : claimed).map((c) => c.firstAttemptMs)),
      ...(credential ? { credential } : {}),
    };
  });
}
