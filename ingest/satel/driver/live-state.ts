/**
 * Live panel state for fast display (Redis `panel:{id}:state`): which zones are violated, in alarm or
 * tampered, which partitions are armed or in alarm, which outputs are on, the trouble bitmaps. Read with
 * the state commands whenever 0x7F flags them, or taken from the frames a module pushes in monitoring mode. State changes are NOT produced as events: the panel event
 * log is the one counting source (see session.ts), the state only says what is true now.
 */
import type { SatelEventKind } from '../../../schemas/index.ts';
import { Cmd, decodeBitmapState, decodeTroubles, encodeStateQuery, isExtendableState, type Message } from '../protocol/index.ts';

/** Watched bitmap commands, the state field each fills, and what a set / cleared bit means. */
const WATCHED = [
  { cmd: Cmd.zonesViolation, field: 'zonesViolated', on: 'ZONE_VIOLATION', off: 'ZONE_RESTORE' },
  { cmd: Cmd.zonesTamper, field: 'zonesTamper', on: 'ZONE_TAMPER', off: 'ZONE_TAMPER_RESTORE' },
  { cmd: Cmd.zonesAlarm, field: 'zonesAlarm', on: 'ZONE_ALARM', off: 'ZONE_ALARM_RESTORE' },
  { cmd: Cmd.armedPartitionsReally, field: 'partitionsArmed', on: 'PARTITION_ARMED', off: 'PARTITION_DISARMED' },
  { cmd: Cmd.partitionsAlarm, field: 'partitionsAlarm', on: 'PARTITION_ALARM', off: 'PARTITION_ALARM_RESTORE' },
  { cmd: Cmd.partitionsFireAlarm, field: 'partitionsFireAlarm', on: 'PARTITION_FIRE_ALARM', off: 'PARTITION_ALARM_RESTORE' },
  { cmd: Cmd.outputsState, field: 'outputsOn', on: 'OUTPUT_ON', off: 'OUTPUT_OFF' },
] as const satisfies readonly { cmd: number; field: string; on: SatelEventKind; off: SatelEventKind }[];

/** Troubles parts 1–5 (0x1B–0x1F), kept as raw bitmaps (their layout is in the manual's trouble tables). */
const TROUBLE_CMDS = [Cmd.troublesPart1, Cmd.troublesPart2, Cmd.troublesPart3, Cmd.troublesPart4, Cmd.troublesPart5] as const;

/** Every command whose 0x7F flag the poller acts on. */
export const WATCHED_CMDS: readonly number[] = [...WATCHED.map((w) => w.cmd), ...TROUBLE_CMDS];

type StateField = (typeof WATCHED)[number]['field'];
export interface PanelState extends Partial<Record<StateField, number[]>> {
  /** Troubles part number (1–5) → hex bitmap; only parts with a trouble are listed. */
  troubles?: Record<string, string>;
}

/** Differences between two states as (kind, object) pairs, in object-number order (logs and tests). */
function diffState(prev: PanelState, next: PanelState): { kind: SatelEventKind; n: number; field: StateField }[] {
  const out: { kind: SatelEventKind; n: number; field: StateField }[] = [];
  for (const w of WATCHED) {
    const after = next[w.field];
    if (after === undefined) continue;
    const before = new Set(prev[w.field] ?? []);
    const now = new Set(after);
    for (const n of after) if (!before.has(n)) out.push({ kind: w.on, n, field: w.field });
    for (const n of before) if (!now.has(n)) out.push({ kind: w.off, n, field: w.field });
  }
  return out;
}

/** True when `next` (a partial read) changes anything in `prev`. */
export function stateChanged(prev: PanelState, next: PanelState): boolean {
  if (diffState(prev, next).length > 0) return true;
  if (next.troubles === undefined) return false;
  return JSON.stringify(prev.troubles ?? {}) !== JSON.stringify(next.troubles);
}

/**
 * Reads the given state commands (zone/output bitmaps 32 bytes wide when `extended`). A partial read
 * only carries the fields it read; troubles are read as a whole when any part is asked for.
 */
export async function readState(request: (m: Message) => Promise<Message>, cmds: Iterable<number>, extended: boolean, prev: PanelState = {}): Promise<PanelState> {
  const wanted = new Set(cmds);
  const next: PanelState = {};
  for (const w of WATCHED) {
    if (!wanted.has(w.cmd)) continue;
    const answer = await request(encodeStateQuery(w.cmd, { extended: extended && isExtendableState(w.cmd) }));
    next[w.field] = decodeBitmapState(answer).active;
  }
  const parts = TROUBLE_CMDS.filter((c) => wanted.has(c));
  if (parts.length > 0) {
    const troubles: Record<string, string> = { ...(prev.troubles ?? {}) };
    for (const cmd of parts) setTroublePart(troubles, await request(encodeStateQuery(cmd)));
    next.troubles = troubles;
  }
  return next;
}

/**
 * The partial state a frame pushed in monitoring mode carries (the same frames as the answers above;
 * zone and output bitmaps may come 32 bytes wide), or undefined for a command the poller does not watch.
 * Throws E_SATEL_PROTOCOL for a malformed frame.
 */
export function pushedState(msg: Message, prev: PanelState): PanelState | undefined {
  const w = WATCHED.find((x) => x.cmd === msg.cmd);
  if (w) return { [w.field]: decodeBitmapState(msg).active };
  if (!(TROUBLE_CMDS as readonly number[]).includes(msg.cmd)) return undefined;
  const troubles: Record<string, string> = { ...(prev.troubles ?? {}) };
  setTroublePart(troubles, msg);
  return { troubles };
}

function setTroublePart(troubles: Record<string, string>, answer: Message): void {
  const t = decodeTroubles(answer);
  if (t.any) troubles[String(t.part)] = t.data.toString('hex');
  else delete troubles[String(t.part)];
}
