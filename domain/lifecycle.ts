import type { AlarmStatus } from './types.ts';

/**
 * Operator actions and the transitions they make: NEW → CLAIMED → ACKNOWLEDGED → RESOLVED → CLOSED,
 * CLAIMED → NEW on release. `takeover` moves a claimed (or acknowledged) alarm to another owner and keeps
 * its status (`to: null`).
 */
export const TRANSITIONS = {
  claim: { from: ['NEW'], to: 'CLAIMED' },
  release: { from: ['CLAIMED'], to: 'NEW' },
  ack: { from: ['CLAIMED'], to: 'ACKNOWLEDGED' },
  resolve: { from: ['ACKNOWLEDGED'], to: 'RESOLVED' },
  close: { from: ['RESOLVED'], to: 'CLOSED' },
  takeover: { from: ['CLAIMED', 'ACKNOWLEDGED'], to: null },
} as const satisfies Record<string, { from: readonly AlarmStatus[]; to: AlarmStatus | null }>;

export type AlarmAction = keyof typeof TRANSITIONS;
export const ALARM_ACTIONS = Object.keys(TRANSITIONS) as AlarmAction[];

export function nextStatus(action: AlarmAction, from: AlarmStatus): AlarmStatus | undefined {
  const t = TRANSITIONS[action];
  if (!(t.from as readonly AlarmStatus[]).includes(from)) return undefined;
  return t.to ?? from;
}

/** What an operator may do to an alarm: the alarm as stored, who acts, and whether they may override an owner. */
export interface TransitionRequest {
  action: AlarmAction;
  status: AlarmStatus;
  ownerId: number | null;
  actorId: number;
  /** Supervisors: take over someone's claim, and release or close an alarm they do not own. */
  canOverride: boolean;
}

export type TransitionDecision =
  | { ok: true; to: AlarmStatus; ownerId: number | null }
  | { ok: false; reason: 'status' | 'owner' | 'self' };

/**
 * The rules of ownership, pure: claim needs a NEW alarm; release, ack and resolve are the owner's; close
 * is the owner's or a supervisor's; takeover is a supervisor's and only of someone else's claim.
 * `status` means the alarm is not in a state the action starts from (someone else got there first);
 * `owner` means it belongs to another operator; `self` means a takeover of one's own claim.
 */
export function decideTransition(r: TransitionRequest): TransitionDecision {
  const to = nextStatus(r.action, r.status);
  if (to === undefined) return { ok: false, reason: 'status' };
  const mine = r.ownerId === r.actorId;
  switch (r.action) {
    case 'claim':
      return { ok: true, to, ownerId: r.actorId };
    case 'release':
      return mine || r.canOverride ? { ok: true, to, ownerId: null } : { ok: false, reason: 'owner' };
    case 'ack':
    case 'resolve':
      return mine ? { ok: true, to, ownerId: r.ownerId } : { ok: false, reason: 'owner' };
    case 'close':
      return mine || r.canOverride ? { ok: true, to, ownerId: r.ownerId } : { ok: false, reason: 'owner' };
    case 'takeover':
      if (mine) return { ok: false, reason: 'self' };
      return r.canOverride ? { ok: true, to, ownerId: r.actorId } : { ok: false, reason: 'owner' };
  }
}
