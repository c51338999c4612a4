import { isStamError, writeAudit, type AuditActor, type Pool } from '../platform/index.ts';
import { transition } from './alarm-store.ts';
import type { Principal } from './rbac.ts';

/** An intent as the console recorded it offline. */
export interface IntentInput { client_id: string; alarm_id: number; action: 'claim'; seen_version: number; recorded_at: string }

export interface IntentOutcome {
  client_id: string; alarm_id: number; outcome: 'claimed' | 'refused';
  /** Why it was refused (or a remark on a claim): `taken`, `closed`, `not_found`, `already_yours` … */
  reason: string | null;
  /** Who has the alarm now, when someone has it. */
  owner: string | null;
  /** The alarm's status and version after arbitration (null when it is gone or out of scope). */
  status: string | null; version: number | null;
  received_at: string;
}

type Stored = Omit<IntentOutcome, 'status' | 'version'> & { status: string | null; version: number | null };

/** An intent older than this (or dated in the future) is refused as stale: a view of the queue from hours ago is no basis for a claim. */
export const INTENT_MAX_AGE_MS = 12 * 3_600_000;

const OUT = `i.client_id::text AS client_id, i.alarm_id, i.outcome, i.reason, i.owner, a.status, a.version,
  to_char(i.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS received_at`;

/**
 * The intent queue (specification §4): what an operator said offline is arbitrated once, when it
 * arrives, against the alarm as it is then. A claim goes through the same transition as a click (one
 * winner; version, ownership, audit, outbox), so an intent can never take an alarm from someone who has it.
 */
export function createIntentStore(pool: Pool) {
  async function stored(userId: number, clientId: string): Promise<Stored | undefined> {
    const { rows } = await pool.query<Stored>(`SELECT ${OUT} FROM intents i LEFT JOIN alarms a ON a.id = i.alarm_id WHERE i.user_id = $1 AND i.client_id = $2`, [userId, clientId]);
    return rows[0];
  }

  async function decide(p: Principal, it: IntentInput, actor: AuditActor): Promise<{ outcome: 'claimed' | 'refused'; reason: string | null; owner: string | null }> {
    const { rows } = await pool.query<{ status: string; version: number; owner: string | null; claimed_by: number | null; object_id: number }>(
      'SELECT a.status, a.version, u.username AS owner, a.claimed_by, a.object_id FROM alarms a LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id = $1', [it.alarm_id]);
    const a = rows[0];
    const age = Date.now() - Date.parse(it.recorded_at);
    if (!(age < INTENT_MAX_AGE_MS) || age < -60_000) return { outcome: 'refused', reason: 'stale', owner: a?.owner ?? null };
    if (!a || (p.objects !== null && !p.objects.has(a.object_id))) return { outcome: 'refused', reason: 'not_found', owner: null };
    if (a.claimed_by === p.id) return { outcome: 'claimed', reason: 'already_yours', owner: p.username };
    if (a.status !== 'NEW') return { outcome: 'refused', reason: a.owner ? 'taken' : a.status.toLowerCase(), owner: a.owner };
    try {
      const note = `intent recorded offline at ${it.recorded_at} (seen version ${it.seen_version})`;
      await transition(pool, p, it.alarm_id, { action: 'claim', version: a.version, note, requestId: actor.requestId ?? '', ip: actor.ip ?? '' });
      return { outcome: 'claimed', reason: null, owner: p.username };
    } catch (err) {
      if (!isStamError(err) || (err.code !== 'E_ALARM_CONFLICT' && err.code !== 'E_ALARM_OWNER')) throw err;
      // Lost a race in the instant between the read and the claim: whoever won has it now.
      const now = (err.details as { alarm?: { owner?: string | null } } | undefined)?.alarm;
      return { outcome: 'refused', reason: 'taken', owner: now?.owner ?? null };
    }
  }

  return {
    /** Arbitrates each intent once (a repeated client_id answers what was decided the first time), in the order given. */
    async arbitrate(p: Principal, intents: IntentInput[], actor: AuditActor): Promise<IntentOutcome[]> {
      const out: IntentOutcome[] = [];
      for (const it of intents) {
        const seen = await stored(p.id, it.client_id);
        if (seen) { out.push(seen); continue; }
        const d = await decide(p, it, actor);
        const { rowCount } = await pool.query(
          `INSERT INTO intents (user_id, client_id, alarm_id, action, seen_version, recorded_at, outcome, reason, owner)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM alarms WHERE id = $3)
           ON CONFLICT (user_id, client_id) DO NOTHING`,
          [p.id, it.client_id, it.alarm_id, it.action, it.seen_version, it.recorded_at, d.outcome, d.reason, d.owner]);
        await writeAudit(pool, {
          ...actor, action: `intent.${d.outcome}`, targetType: 'alarm', targetId: it.alarm_id,
          details: { client_id: it.client_id, action: it.action, recorded_at: it.recorded_at, seen_version: it.seen_version, reason: d.reason, owner: d.owner },
        });
        const now = rowCount ? await stored(p.id, it.client_id) : undefined;
        out.push(now ?? { client_id: it.client_id, alarm_id: it.alarm_id, ...d, status: null, version: null, received_at: new Date().toISOString() });
      }
      return out;
    },

    /** The user's intents, newest first. */
    async list(userId: number, limit: number): Promise<IntentOutcome[]> {
      const { rows } = await pool.query<IntentOutcome>(`SELECT ${OUT} FROM intents i LEFT JOIN alarms a ON a.id = i.alarm_id WHERE i.user_id = $1 ORDER BY i.id DESC LIMIT $2`, [userId, limit]);
      return rows;
    },
  };
}
