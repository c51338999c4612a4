import type { AlarmStatus } from './types.ts';

/** Operator actions and the transitions they make: NEW → CLAIMED → ACKNOWLEDGED → RESOLVED → CLOSED, CLAIMED → NEW on release. */
export const TRANSITIONS = {
  claim: { from: ['NEW'], to: 'CLAIMED' },
  release: { from: ['CLAIMED'], to: 'NEW' },
  ack: { from: ['CLAIMED'], to: 'ACKNOWLEDGED' },
  resolve: { from: ['ACKNOWLEDGED'], to: 'RESOLVED' },
  close: { from: ['RESOLVED'], to: 'CLOSED' },
} as const satisfies Record<string, { from: readonly AlarmStatus[]; to: AlarmStatus }>;

export type AlarmAction = keyof typeof TRANSITIONS;

export function nextStatus(action: AlarmAction, from: AlarmStatus): AlarmStatus | undefined {
  const t = TRANSITIONS[action];
  return (t.from as readonly AlarmStatus[]).includes(from) ? t.to : undefined;
}
