import { describe, expect, it } from 'vitest';
import { decideTransition, nextStatus, type AlarmAction, type AlarmStatus } from './index.ts';

const ME = 1;
const OTHER = 2;
const decide = (action: AlarmAction, status: AlarmStatus, ownerId: number | null, canOverride = false) =>
  decideTransition({ action, status, ownerId, actorId: ME, canOverride });

describe('alarm lifecycle decisions', () => {
  it('a NEW alarm can be claimed by anyone who handles alarms, and the claimer owns it', () => {
    expect(decide('claim', 'NEW', null)).toEqual({ ok: true, to: 'CLAIMED', ownerId: ME });
  });

  it('a claimed alarm cannot be claimed again: the loser is told the status moved on', () => {
    expect(decide('claim', 'CLAIMED', OTHER)).toEqual({ ok: false, reason: 'status' });
    expect(decide('claim', 'CLAIMED', OTHER, true)).toEqual({ ok: false, reason: 'status' });
  });

  it('only the owner acknowledges and resolves, even a supervisor must take over first', () => {
    expect(decide('ack', 'CLAIMED', ME)).toEqual({ ok: true, to: 'ACKNOWLEDGED', ownerId: ME });
    expect(decide('ack', 'CLAIMED', OTHER)).toEqual({ ok: false, reason: 'owner' });
    expect(decide('ack', 'CLAIMED', OTHER, true)).toEqual({ ok: false, reason: 'owner' });
    expect(decide('resolve', 'ACKNOWLEDGED', ME)).toEqual({ ok: true, to: 'RESOLVED', ownerId: ME });
    expect(decide('resolve', 'ACKNOWLEDGED', OTHER)).toEqual({ ok: false, reason: 'owner' });
  });

  it('release returns the alarm to NEW without an owner; a supervisor may release another operator\'s claim', () => {
    expect(decide('release', 'CLAIMED', ME)).toEqual({ ok: true, to: 'NEW', ownerId: null });
    expect(decide('release', 'CLAIMED', OTHER)).toEqual({ ok: false, reason: 'owner' });
    expect(decide('release', 'CLAIMED', OTHER, true)).toEqual({ ok: true, to: 'NEW', ownerId: null });
    expect(decide('release', 'ACKNOWLEDGED', ME)).toEqual({ ok: false, reason: 'status' });
  });

  it('close needs a RESOLVED alarm and its owner or a supervisor', () => {
    expect(decide('close', 'RESOLVED', ME)).toEqual({ ok: true, to: 'CLOSED', ownerId: ME });
    expect(decide('close', 'RESOLVED', OTHER)).toEqual({ ok: false, reason: 'owner' });
    expect(decide('close', 'RESOLVED', OTHER, true)).toEqual({ ok: true, to: 'CLOSED', ownerId: OTHER });
    expect(decide('close', 'ACKNOWLEDGED', ME)).toEqual({ ok: false, reason: 'status' });
  });

  it('a supervisor takes over a claimed or acknowledged alarm and keeps its status; nobody takes over their own', () => {
    expect(decide('takeover', 'CLAIMED', OTHER, true)).toEqual({ ok: true, to: 'CLAIMED', ownerId: ME });
    expect(decide('takeover', 'ACKNOWLEDGED', OTHER, true)).toEqual({ ok: true, to: 'ACKNOWLEDGED', ownerId: ME });
    expect(decide('takeover', 'CLAIMED', OTHER, false)).toEqual({ ok: false, reason: 'owner' });
    expect(decide('takeover', 'CLAIMED', ME, true)).toEqual({ ok: false, reason: 'self' });
    expect(decide('takeover', 'NEW', null, true)).toEqual({ ok: false, reason: 'status' });
  });

  it('nothing leaves CLOSED', () => {
    for (const a of ['claim', 'release', 'ack', 'resolve', 'close', 'takeover'] as const) {
      expect(nextStatus(a, 'CLOSED')).toBeUndefined();
    }
  });
});
