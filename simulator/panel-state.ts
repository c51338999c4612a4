/**
 * The panel's state as the protocol sees it: one bitmap per state command 0x00–0x2F (zones and outputs
 * kept 32 bytes wide, partitions 4, troubles at their fixed lengths) and the "new data" flags of 0x7F.
 * Any bit that changes sets its command's flag; answering the command clears it, as 0x7F works.
 */
import { MAX_OBJECTS, PARTITION_BITMAP_BYTES, PayloadKind, STATE_COMMANDS } from './models.ts';

/** Commands 0x00–0x2F fit in 6 bytes of flags. */
const NEW_DATA_BYTES = 6;

export type StateStore = {
  get(cmd: number, n: number): boolean;
  /** Sets object n (from 1) of command cmd; returns true when the bit changed. */
  set(cmd: number, n: number, value: boolean): boolean;
  /** Sets bit `bit` of byte `byte` (for troubles); returns true when it changed. */
  setRaw(cmd: number, byte: number, bit: number, value: boolean): boolean;
  getRaw(cmd: number, byte: number, bit: number): boolean;
  /** The full stored bitmap (zones/outputs 32 bytes). Do not mutate. */
  bytes(cmd: number): Uint8Array;
  /** Object numbers (from 1) set in cmd's bitmap. */
  list(cmd: number): number[];
  any(cmd: number): boolean;
  isNew(cmd: number): boolean;
  markNew(cmd: number): void;
  clearNew(cmd: number): void;
  /** 0x7F payload: 5 bytes (0x00–0x27) or 6 (0x00–0x2F). */
  newDataBytes(count: 5 | 6): Uint8Array;
  /** Called with the command number each time one of its bits changes. */
  onChange(listener: (cmd: number) => void): () => void;
};

function storedWidth(cmd: number): number {
  const def = STATE_COMMANDS[cmd];
  if (!def) throw new RangeError(`0x${cmd.toString(16)} is not a state command`);
  if (def.kind === PayloadKind.zones || def.kind === PayloadKind.outputs) return MAX_OBJECTS / 8;
  if (def.kind === PayloadKind.partitions) return PARTITION_BITMAP_BYTES;
  return def.bytes;
}

export function createStateStore(): StateStore {
  const maps = new Map<number, Uint8Array>();
  for (const cmd of Object.keys(STATE_COMMANDS).map(Number)) maps.set(cmd, new Uint8Array(storedWidth(cmd)));
  const newData = new Uint8Array(NEW_DATA_BYTES);
  const listeners = new Set<(cmd: number) => void>();

  const map = (cmd: number): Uint8Array => {
    const m = maps.get(cmd);
    if (!m) throw new RangeError(`0x${cmd.toString(16)} is not a state command`);
    return m;
  };

  function setRaw(cmd: number, byte: number, bit: number, value: boolean): boolean {
    const m = map(cmd);
    if (byte < 0 || byte >= m.length || bit < 0 || bit > 7) throw new RangeError(`bit ${byte}:${bit} outside command 0x${cmd.toString(16)}`);
    const before = m[byte]!;
    const after = value ? before | (1 << bit) : before & ~(1 << bit);
    if (after === before) return false;
    m[byte] = after;
    store.markNew(cmd);
    for (const l of listeners) l(cmd);
    return true;
  }

  const store: StateStore = {
    get: (cmd, n) => store.getRaw(cmd, (n - 1) >> 3, (n - 1) & 7),
    set: (cmd, n, value) => setRaw(cmd, (n - 1) >> 3, (n - 1) & 7, value),
    setRaw,
    getRaw(cmd, byte, bit) {
      return ((map(cmd)[byte] ?? 0) & (1 << bit)) !== 0;
    },
    bytes: map,
    list(cmd) {
      const m = map(cmd);
      const out: number[] = [];
      for (let i = 0; i < m.length; i++) {
        const b = m[i]!;
        if (b === 0) continue;
        for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) out.push(i * 8 + bit + 1);
      }
      return out;
    },
    any: (cmd) => map(cmd).some((b) => b !== 0),
    isNew: (cmd) => cmd >= 0 && cmd < NEW_DATA_BYTES * 8 && (newData[cmd >> 3]! & (1 << (cmd & 7))) !== 0,
    markNew(cmd) {
      if (cmd >= 0 && cmd < NEW_DATA_BYTES * 8) newData[cmd >> 3]! |= 1 << (cmd & 7);
    },
    clearNew(cmd) {
      if (cmd >= 0 && cmd < NEW_DATA_BYTES * 8) newData[cmd >> 3]! &= ~(1 << (cmd & 7));
    },
    newDataBytes: (count) => newData.slice(0, count),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return store;
}
