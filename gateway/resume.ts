import type { Recorded } from './messages.ts';

/**
 * How a connecting client continues (Centrifugo-style recovery):
 *  - `fresh`/`epoch`/`gap` → a `resync` snapshot of open alarms at the current position;
 *  - `live` → it has seen up to (or beyond) what this instance reached: only later positions are sent;
 *  - `replay` → positions (after, to] from the Redis buffer or PostgreSQL history, then live.
 */
export type ResumePlan =
  | { kind: 'resync'; reason: 'fresh' | 'epoch' | 'gap' }
  | { kind: 'live' }
  | { kind: 'replay'; after: number; to: number };

export function planResume(
  client: { epoch?: string | undefined; position?: number | undefined },
  stream: { epoch: string; head: number },
  maxGap: number,
): ResumePlan {
  if (client.epoch === undefined || client.position === undefined) return { kind: 'resync', reason: 'fresh' };
  if (client.epoch !== stream.epoch) return { kind: 'resync', reason: 'epoch' };
  if (client.position >= stream.head) return { kind: 'live' };
  if (stream.head - client.position > maxGap) return { kind: 'resync', reason: 'gap' };
  return { kind: 'replay', after: client.position, to: stream.head };
}

/**
 * The recorded positions after `after`, in order, without duplicates, as long as they follow each other
 * without a hole; null unless they reach `to`. A hole means "not recorded", never "nothing happened", so
 * the caller must not serve it (it resyncs instead).
 */
export function contiguousFrom(entries: readonly Recorded[], after: number, to: number): Recorded[] | null {
  const sorted = [...entries].sort((a, b) => a.position - b.position);
  const out: Recorded[] = [];
  let expect = after + 1;
  for (const e of sorted) {
    if (e.position < expect) continue; // before the range, or a duplicate written by another instance
    if (e.position > expect) break;
    out.push(e);
    expect++;
  }
  return expect - 1 >= to ? out : null;
}
