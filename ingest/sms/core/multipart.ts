/**
 * Joining the parts of long SMS (concatenation IEI 0x00 and 0x08) by sender, reference and part count, in
 * any order; a part delivered twice (in another slot) is kept as a copy, deleted with the message. A set whose missing parts do not arrive within `timeoutMs` of its first part is handed out as
 * what arrived, flagged partial — never dropped. Each part carries an opaque `slot` (its SIM index): the
 * driver deletes the slots of a message only after the broker took it.
 */
import type { SmsPart } from './pdu.ts';

export interface StoredPart<S> { slot: S; part: SmsPart; pdu: string }

/** A whole message (one part, or a joined set), or what arrived of a set that timed out. */
export interface Assembled<S> {
  sender: string;
  text: string;
  /** The earliest service-centre time stamp of its parts. */
  smscTimeMs: number;
  parts: StoredPart<S>[];
  /** Parts expected (1 for a single SMS). */
  total: number;
  partial: boolean;
  /** Sequence numbers that never arrived (partial only). */
  missing: number[];
  /** Other slots holding a copy of one of its parts (a network re-delivery): deleted with it. */
  copies: StoredPart<S>[];
}

interface PartSet<S> { sender: string; total: number; firstSeenMs: number; bySeq: Map<number, StoredPart<S>>; copies: StoredPart<S>[] }

const keyOf = (p: SmsPart) => `${p.sender}\u0000${p.concat!.ref}\u0000${p.concat!.total}`;

function assemble<S>(set: PartSet<S>, partial: boolean): Assembled<S> {
  const parts = [...set.bySeq.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
  const missing: number[] = [];
  for (let seq = 1; seq <= set.total; seq++) if (!set.bySeq.has(seq)) missing.push(seq);
  return {
    sender: set.sender, text: parts.map((p) => p.part.text).join(''), smscTimeMs: Math.min(...parts.map((p) => p.part.smscTimeMs)),
    parts, total: set.total, partial, missing, copies: set.copies,
  };
}

export function createReassembly<S>(opts: { timeoutMs: number }) {
  const sets = new Map<string, PartSet<S>>();

  return {
    /**
     * Adds a part; returns the messages it completes (a single SMS at once; a set when its last part
     * arrives). The same part read again (same sequence, same PDU) is ignored; another PDU under a sequence
     * number already held means the sender reused the reference: the old set goes out as partial.
     */
    add(nowMs: number, stored: StoredPart<S>): Assembled<S>[] {
      const { part } = stored;
      if (!part.concat || part.concat.total === 1) {
        return [{ sender: part.sender, text: part.text, smscTimeMs: part.smscTimeMs, parts: [stored], total: 1, partial: false, missing: [], copies: [] }];
      }
      const out: Assembled<S>[] = [];
      const key = keyOf(part);
      let set = sets.get(key);
      const held = set?.bySeq.get(part.concat.seq);
      if (set && held) {
        if (held.pdu === stored.pdu) {
          if (held.slot !== stored.slot && !set.copies.some((c) => c.slot === stored.slot)) set.copies.push(stored);
          return [];
        }
        sets.delete(key);
        out.push(assemble(set, true));
        set = undefined;
      }
      if (!set) {
        set = { sender: part.sender, total: part.concat.total, firstSeenMs: nowMs, bySeq: new Map(), copies: [] };
        sets.set(key, set);
      }
      set.bySeq.set(part.concat.seq, stored);
      if (set.bySeq.size === set.total) {
        sets.delete(key);
        out.push(assemble(set, false));
      }
      return out;
    },
    /** Sets older than the timeout, as partial messages (and forgotten here). */
    due(nowMs: number): Assembled<S>[] {
      const out: Assembled<S>[] = [];
      for (const [key, set] of sets) {
        if (nowMs - set.firstSeenMs >= opts.timeoutMs) { sets.delete(key); out.push(assemble(set, true)); }
      }
      return out;
    },
    /** True when this PDU is held in an incomplete set. */
    holds(pdu: string): boolean {
      for (const set of sets.values()) for (const p of set.bySeq.values()) if (p.pdu === pdu) return true;
      return false;
    },
    /** Forgets every part of a slot (it was found empty or reused on the SIM). */
    forgetSlot(slot: S): void {
      for (const [key, set] of sets) {
        for (const [seq, p] of set.bySeq) if (p.slot === slot) set.bySeq.delete(seq);
        set.copies = set.copies.filter((c) => c.slot !== slot);
        if (set.bySeq.size === 0) sets.delete(key);
      }
    },
    /** When the oldest incomplete set times out (epoch ms), or Infinity. */
    nextDueAt(): number {
      let t = Infinity;
      for (const set of sets.values()) t = Math.min(t, set.firstSeenMs + opts.timeoutMs);
      return t;
    },
    get incomplete(): number { return sets.size; },
  };
}

export type Reassembly<S> = ReturnType<typeof createReassembly<S>>;
