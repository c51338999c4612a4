/**
 * The modem's message store (SIM "SM" memory): numbered slots with a capacity, stat 0 (unread) / 1 (read),
 * and the network's queue of messages waiting while the store is full — a full SIM does not lose a message,
 * the network keeps trying, and it lands (with +CMTI) once a slot is free.
 */
export interface StoredSms { pdu: string; tpduLength: number; stat: 0 | 1; storedAtMs: number }

export function createSmsStore(opts: { capacity: number; firstIndex: 0 | 1 }) {
  const slots = new Map<number, StoredSms>();
  const network: Omit<StoredSms, 'stat' | 'storedAtMs'>[] = [];
  let capacity = opts.capacity;
  let deleted = 0;

  const freeIndex = (): number | undefined => {
    if (slots.size >= capacity) return undefined;
    for (let i = opts.firstIndex; i < opts.firstIndex + opts.capacity; i++) if (!slots.has(i)) return i;
    return undefined;
  };

  return {
    get used() { return slots.size; },
    get capacity() { return capacity; },
    get queued() { return network.length; },
    get deleted() { return deleted; },
    /** Stores a message in the lowest free slot; undefined (queued in the network) when full. */
    put(m: { pdu: string; tpduLength: number }, nowMs: number): number | undefined {
      const i = freeIndex();
      if (i === undefined) { network.push(m); return undefined; }
      slots.set(i, { ...m, stat: 0, storedAtMs: nowMs });
      return i;
    },
    get(i: number): StoredSms | undefined { return slots.get(i); },
    markRead(i: number): void { const s = slots.get(i); if (s) s.stat = 1; },
    delete(i: number): boolean {
      const ok = slots.delete(i);
      if (ok) deleted++;
      return ok;
    },
    /** Slots in index order (AT+CMGL), optionally only unread (stat 0) or read (1). */
    list(stat?: 0 | 1): [number, StoredSms][] {
      return [...slots.entries()].filter(([, s]) => stat === undefined || s.stat === stat).sort(([a], [b]) => a - b);
    },
    /** Moves waiting network messages into free slots; returns their indices. */
    deliverQueued(nowMs: number): number[] {
      const out: number[] = [];
      while (network.length > 0) {
        const i = freeIndex();
        if (i === undefined) break;
        slots.set(i, { ...network.shift()!, stat: 0, storedAtMs: nowMs });
        out.push(i);
      }
      return out;
    },
    /** Storage-full fault: no more room than what is stored now (undefined: the real capacity again). */
    limit(to: number | undefined): void { capacity = to === undefined ? opts.capacity : Math.min(opts.capacity, to); },
    clear(): void { slots.clear(); network.length = 0; },
  };
}

export type SmsStore = ReturnType<typeof createSmsStore>;
