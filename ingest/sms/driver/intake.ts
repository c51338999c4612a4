/**
 * From stored messages to acknowledged events to free slots — the guarantee of the SMS intake:
 *
 * - A slot is deleted (AT+CMGD) only after the broker acknowledged (acks -1) the event that carries its
 *   message; the parts of a long SMS stay on the SIM until the joined message is acknowledged. A crash at
 *   any moment leaves the message on the SIM, and the next sweep reads it again: the same sender, SMSC time
 *   stamp and content give the same dedup_key, so the processor records one event.
 * - A slot is never deleted blind: when the outcome of a delete is unknown (no answer, the modem reset, the
 *   port vanished) the slot may since hold a new message, so it is read again first and deleted only if it
 *   still holds the PDU that was acknowledged.
 * - The parts of a long SMS are remembered (PostgreSQL, by PDU hash) once their message is acknowledged and
 *   before they are deleted: a part left on the SIM by a crash in the middle of deleting is deleted when read
 *   again, not joined into a partial copy of a message already produced.
 * - Nothing is dropped: a PDU that does not decode is produced as UNCLASSIFIED with the PDU as its text, a
 *   long SMS whose parts never all arrive is produced as what arrived, flagged partial.
 */
import { commands as at, decodeDeliver, type AtCommand, createReassembly, parseCmgl, parseCmgr, undecodableSms, type InfoLine, type ReceivedSms, type Reply } from '../core/index.ts';
import { backoffMs, type Logger } from '../../../platform/index.ts';
import type { SmsEvent } from '../../../schemas/index.ts';
import { metrics as m } from './metrics.ts';

export interface IntakeDeps {
  run(command: AtCommand): Promise<Reply>;
  commandTimeoutMs: number;
  multipartTimeoutMs: number;
  /** Resolves once the broker acknowledged every event (acks -1); rejects otherwise. */
  produce(events: SmsEvent[]): Promise<void>;
  /** Builds the event of a received SMS (templates, sensors). */
  interpret(sms: ReceivedSms): SmsEvent;
  /** Every SMS read (silence supervision). */
  received(): void;
  /** Records the PDUs of acknowledged long SMS (before their slots are deleted). */
  remember(parts: { pdu: string; dedupKey: string }[]): Promise<void>;
  /** Which of these PDUs belong to a long SMS already acknowledged. */
  remembered(pdus: string[]): Promise<Set<string>>;
  log: Logger;
  now?: () => number;
}

type SlotState = 'held' | 'sending' | 'acked' | 'verify';
interface Slot { pdu: string; state: SlotState }
interface Outgoing { event: SmsEvent; slots: number[]; smscTimeMs: number | null; long: boolean }

/** A stored message as listed or read: its index, the TPDU length the modem announced, and its PDU. */
export interface StoredEntry { index: number; length: number; pdu: string }

/** The stored messages of a +CMGL reply, or of a +CMGR reply for `index`; headers without a PDU are skipped. */
export function entriesOf(info: InfoLine[], index?: number): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (const line of info) {
    if (!line.pdu) continue;
    if (index === undefined) {
      const l = parseCmgl(line.header);
      if (l) out.push({ index: l.index, length: l.length, pdu: line.pdu });
    } else {
      const l = parseCmgr(line.header);
      if (l) out.push({ index, length: l.length, pdu: line.pdu });
    }
  }
  return out;
}

export function createIntake(d: IntakeDeps) {
  const now = d.now ?? Date.now;
  const slots = new Map<number, Slot>();
  const reassembly = createReassembly<number>({ timeoutMs: d.multipartTimeoutMs });
  const outbox: Outgoing[] = [];
  let sending = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let deleting: Promise<void> = Promise.resolve();

  const gauge = () => m.pendingDeletes.set([...slots.values()].filter((s) => s.state !== 'held').length);

  function queueEvent(event: SmsEvent, slotIds: number[], smscTimeMs: number | null, long = false): void {
    for (const i of slotIds) { const s = slots.get(i); if (s) s.state = 'sending'; }
    outbox.push({ event, slots: slotIds, smscTimeMs, long });
  }

  function take(entry: StoredEntry, leftover: boolean): void {
    const known = slots.get(entry.index);
    if (known?.pdu === entry.pdu) return; // already on its way (or held for its other parts)
    if (known) {
      // The slot holds another message: the earlier one was deleted (a delete whose answer was lost).
      if (known.state !== 'verify') d.log.warn({ index: entry.index, state: known.state }, 'a slot holds a different message than the one in progress');
      reassembly.forgetSlot(entry.index);
    }
    slots.set(entry.index, { pdu: entry.pdu, state: 'held' });
    d.received();
    let part;
    try {
      part = decodeDeliver(entry.pdu, entry.length);
    } catch (err) {
      m.undecodable.inc();
      d.log.warn({ index: entry.index, err: (err as Error).message }, 'stored message does not decode; produced as UNCLASSIFIED with its PDU');
      queueEvent(undecodableSms(entry.pdu, (err as Error).message, now()), [entry.index], null);
      return;
    }
    m.parts.inc({ encoding: part.encoding });
    if (leftover && part.concat) {
      // A part of a long SMS the broker already has (the driver died while deleting its parts): delete it.
      slots.get(entry.index)!.state = 'acked';
      m.deletes.inc({ outcome: 'leftover_part' });
      d.log.info({ index: entry.index, sender: part.sender }, 'part of an acknowledged long SMS left on the SIM; deleting it');
      return;
    }
    for (const a of reassembly.add(now(), { slot: entry.index, part, pdu: entry.pdu })) emit(a);
  }

  function emit(a: ReturnType<typeof reassembly.due>[number]): void {
    if (a.partial) {
      m.partial.inc();
      d.log.warn({ sender: a.sender, parts: a.parts.length, of: a.total, missing: a.missing }, 'long SMS emitted with parts missing');
    }
    const event = d.interpret({ sender: a.sender, text: a.text, smscTimeMs: a.smscTimeMs, partial: a.partial, observedAtMs: now() });
    queueEvent(event, [...a.parts, ...a.copies].map((p) => p.slot), a.smscTimeMs, a.total > 1);
  }

  async function deleteSlot(index: number): Promise<void> {
    const s = slots.get(index);
    if (!s) return;
    if (s.state === 'verify') {
      const r = await d.run(at.read(index, d.commandTimeoutMs));
      const stored = r.ok ? entriesOf(r.info, index)[0] : undefined;
      if (!r.ok && r.type !== '+CMS ERROR' && r.type !== '+CME ERROR') return; // still unknown: try again later
      if (stored?.pdu !== s.pdu) { slots.delete(index); m.deletes.inc({ outcome: 'already_gone' }); return; }
    }
    const r = await d.run(at.delete(index, d.commandTimeoutMs));
    if (r.ok || (r.type === '+CMS ERROR' && r.code === 321)) {
      slots.delete(index);
      m.deletes.inc({ outcome: r.ok ? 'deleted' : 'already_gone' });
    } else {
      s.state = 'verify';
      m.deletes.inc({ outcome: 'unknown' });
      d.log.warn({ index, err: r.text }, 'delete not confirmed; the slot is read again before it is deleted');
    }
  }

  /** Deletes every acknowledged slot (and re-checks the unconfirmed ones), one command after another. */
  function runDeletes(): Promise<void> {
    deleting = deleting.then(async () => {
      for (const [i, s] of [...slots]) if (s.state === 'acked' || s.state === 'verify') await deleteSlot(i);
      gauge();
    }).catch((err: Error) => d.log.error({ err: err.message }, 'deleting acknowledged messages failed'));
    return deleting;
  }

  async function flush(): Promise<void> {
    if (sending || outbox.length === 0) return;
    sending = true;
    const batch = outbox.splice(0);
    const t0 = performance.now();
    try {
      await d.produce(batch.map((o) => o.event));
      const long = batch.filter((o) => o.long).flatMap((o) => o.slots.map((i) => ({ pdu: slots.get(i)?.pdu, dedupKey: o.event.dedup_key })));
      await d.remember(long.filter((p): p is { pdu: string; dedupKey: string } => p.pdu !== undefined));
      failures = 0;
      m.produceSeconds.observe((performance.now() - t0) / 1000);
      for (const o of batch) {
        m.events.inc({ kind: o.event.kind });
        if (o.smscTimeMs !== null) m.receivedAge.observe(Math.max(0, now() - o.smscTimeMs) / 1000);
        for (const i of o.slots) { const s = slots.get(i); if (s) s.state = 'acked'; }
      }
      void runDeletes();
    } catch (err) {
      outbox.unshift(...batch);
      m.produceErrors.inc();
      const wait = backoffMs(failures++, 200, 10_000);
      d.log.warn({ err: (err as Error).message, events: batch.length, retryInMs: wait }, 'SMS events not acknowledged (or their parts not recorded); kept on the SIM, retrying');
      clearTimeout(retry);
      retry = setTimeout(() => void flush(), wait);
    } finally {
      sending = false;
      gauge();
    }
    if (outbox.length > 0 && failures === 0) await flush();
  }

  return {
    /** Stored messages from a listing or a read: new ones are decoded, joined and produced. */
    async accept(entries: StoredEntry[]): Promise<void> {
      const fresh = entries.filter((e) => slots.get(e.index)?.pdu !== e.pdu);
      let leftovers = new Set<string>();
      if (fresh.length > 0) {
        try {
          leftovers = await d.remembered(fresh.map((e) => e.pdu));
        } catch (err) {
          d.log.warn({ err: (err as Error).message }, 'acknowledged parts not readable; these messages wait on the SIM for the next sweep');
          return;
        }
      }
      for (const e of fresh) take(e, leftovers.has(e.pdu));
      await flush();
      if (leftovers.size > 0) void runDeletes();
    },
    /** True when this slot's message is already in progress (a +CMTI for it needs no read). */
    busy(index: number): boolean { return slots.has(index) && slots.get(index)!.state !== 'verify'; },
    /**
     * Long SMS whose time ran out go out as partial — unless every part held is one of a message already
     * acknowledged (a copy read while that message was still on its way): those are only deleted.
     */
    async sweepIncomplete(): Promise<void> {
      const due = reassembly.due(now());
      if (due.length === 0) return;
      let known = new Set<string>();
      try {
        known = await d.remembered(due.flatMap((a) => [...a.parts, ...a.copies].map((p) => p.pdu)));
      } catch (err) {
        d.log.warn({ err: (err as Error).message }, 'acknowledged parts not readable; incomplete long SMS emitted as partial');
      }
      for (const a of due) {
        const held = [...a.parts, ...a.copies];
        if (!held.every((p) => known.has(p.pdu))) { emit(a); continue; }
        for (const p of held) { const s = slots.get(p.slot); if (s) s.state = 'acked'; }
        m.deletes.inc({ outcome: 'leftover_part' }, held.length);
      }
      await flush();
      await runDeletes();
    },
    /** After the modem is back: retry unconfirmed deletes and anything not yet acknowledged. */
    async resume(): Promise<void> {
      await flush();
      await runDeletes();
    },
    get pending(): number { return slots.size; },
    get unsent(): number { return outbox.length; },
    nextIncompleteDueAt: () => reassembly.nextDueAt(),
    async stop(): Promise<void> {
      clearTimeout(retry);
      await deleting;
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;
