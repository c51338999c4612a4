/**
 * Panel event-log records as SatelEvents. Every record becomes exactly one event whose dedup_key is the
 * record's key (panel, index, bytes), and which always carries the raw record in `log`. Codes whose
 * meaning is certain get a typed kind (a zone violation is ZONE_VIOLATION of that zone, so the alarm
 * rules for state changes apply); every other record stays LOG_RECORD and is classified by its class.
 */
import { createHash } from 'node:crypto';
import type { SatelEvent, SatelEventKind, Trace } from '../../../schemas/index.ts';
import type { EventRecord } from '../protocol/index.ts';
import type { LogEntry } from './log-reader.ts';

/**
 * Event codes (Satel's event table, the 10-bit code with the restore flag giving the second meaning) that
 * map to a typed kind, and which field numbers the object: the source byte (zone, output) or the
 * partition. Anything not listed here is a LOG_RECORD.
 */
const TYPED: ReadonlyMap<number, { cls: number; normal: SatelEventKind; restore: SatelEventKind; object: 'source' | 'partition' }> = new Map([
  [99, { cls: 0, normal: 'ZONE_VIOLATION', restore: 'ZONE_RESTORE', object: 'source' }],
  [130, { cls: 0, normal: 'ZONE_ALARM', restore: 'ZONE_ALARM_RESTORE', object: 'source' }],
  [144, { cls: 0, normal: 'ZONE_TAMPER', restore: 'ZONE_TAMPER_RESTORE', object: 'source' }],
  // "Disarm by user" / restore "Arm by user"; "Forced arming".
  [401, { cls: 2, normal: 'PARTITION_DISARMED', restore: 'PARTITION_ARMED', object: 'partition' }],
  [1001, { cls: 2, normal: 'PARTITION_ARMED', restore: 'PARTITION_ARMED', object: 'partition' }],
  // "Remote switch turned on" / restore "turned off".
  [47, { cls: 6, normal: 'OUTPUT_ON', restore: 'OUTPUT_OFF', object: 'source' }],
] as const);

/** The partition number of a record. Panels send n-1 (0 also for "no partition"), as the simulator does. */
function recordPartition(r: EventRecord): number {
  return r.partitionRaw + 1;
}

export function kindOf(r: EventRecord): { kind: SatelEventKind; objectNumber: number } {
  const t = TYPED.get(r.code);
  // The source byte numbers zones and outputs 1–255, and 0 is number 256 (INTEGRA 256 Plus), as in 0xEE.
  if (t && t.cls === r.eventClass) return { kind: r.restore ? t.restore : t.normal, objectNumber: t.object === 'source' ? r.source || 256 : recordPartition(r) };
  return { kind: 'LOG_RECORD', objectNumber: r.source };
}

/**
 * The panel's clock as epoch ms. Records carry minutes and the year modulo 4 (already reconstructed);
 * the panel clock is local time, read in this process's time zone (run drivers with the panels' TZ).
 */
export function panelTimeOf(r: EventRecord): number | null {
  if (r.month < 1 || r.month > 12 || r.day < 1 || r.day > 31 || r.minuteOfDay > 1439) return null;
  const t = new Date(r.year, r.month - 1, r.day, Math.floor(r.minuteOfDay / 60), r.minuteOfDay % 60).getTime();
  return Number.isFinite(t) ? t : null;
}

/** A UUID derived from the dedup key: the same physical event has the same id however often it is read. */
export function eventIdOf(dedupKey: string): string {
  const h = createHash('sha256').update(dedupKey).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

interface LogEventContext {
  panelId: number;
  fencing: number;
  observedAt: number;
  /** Event text from 0x8F, when read. */
  text?: string | null;
  trace?: Trace | null;
}

export function logEventOf(entry: LogEntry, ctx: LogEventContext): SatelEvent {
  const r = entry.record;
  const { kind, objectNumber } = kindOf(r);
  return {
    event_id: eventIdOf(entry.key),
    panel_id: ctx.panelId,
    kind,
    object_number: objectNumber,
    panel_time: panelTimeOf(r),
    observed_at: ctx.observedAt,
    fencing: ctx.fencing,
    dedup_key: entry.key,
    log: {
      log_index: entry.index, class: r.eventClass, code: r.code, restore: r.restore, source: r.source,
      partition: recordPartition(r), user: r.userControlNumber, object: r.object, text: ctx.text ?? null,
    },
    trace: ctx.trace ?? null,
  };
}
