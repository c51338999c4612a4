/**
 * Satel INTEGRA integration protocol framing (INT-RS / ETHM-1): CRC, byte stuffing and a streaming
 * parser that turns arbitrary TCP chunks into frames. Pure: no I/O, never throws on input bytes.
 *
 * Wire format: `FE FE cmd d1 … dn crc.high crc.low FE 0D`, every FE between cmd and crc.low sent as `FE F0`.
 */

const SYNC = 0xfe;
const STUFFED = 0xf0;
const END = 0x0d;
/** `Busy!\r\n`, sent by the module instead of a frame (sometimes prefixed 0x10). */
const BUSY = Buffer.from('Busy!\r\n', 'ascii');
const BUSY_PREFIX = 0x10;
const DEFAULT_MAX_FRAME_BYTES = 1024;
/** A long run of stray bytes is reported once per this many bytes, so a garbage-only stream is still seen. */
const GARBAGE_REPORT_BYTES = 4096;

/** The manual's CRC-16: init 0x147A; per byte rotate left 1, invert, add high byte and the data byte. */
export function crc16(data: Uint8Array): number {
  let crc = 0x147a;
  for (const b of data) {
    crc = ((crc << 1) & 0xffff) | (crc >> 15);
    crc ^= 0xffff;
    crc = (crc + (crc >> 8) + b) & 0xffff;
  }
  return crc;
}

/** Builds a complete frame: `FE FE cmd data crcHi crcLo FE 0D` with FE → `FE F0` stuffing. */
export function encodeFrame(cmd: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  if (!Number.isInteger(cmd) || cmd < 0 || cmd > 0xff || cmd === SYNC) {
    throw new RangeError(`Satel command must be an integer 0x00..0xFF other than 0xFE, got ${String(cmd)}`);
  }
  const body = new Uint8Array(data.length + 1);
  body[0] = cmd;
  body.set(data, 1);
  const crc = crc16(body);
  const out: number[] = [SYNC, SYNC];
  const put = (b: number): void => {
    out.push(b);
    if (b === SYNC) out.push(STUFFED);
  };
  for (const b of body) put(b);
  put(crc >> 8);
  put(crc & 0xff);
  out.push(SYNC, END);
  return Buffer.from(out);
}

export type FrameEvent =
  | { type: 'frame'; cmd: number; data: Buffer }
  | { type: 'busy' }
  | { type: 'error'; code: 'E_SATEL_CRC' | 'E_SATEL_FRAME'; reason: string; bytes: number };

const State = {
  /** Outside a frame: skipping stray bytes, watching for `Busy!`. */
  Idle: 0,
  /** One FE seen outside a frame. */
  IdleFe: 1,
  /** Synchronised (two or more FE), waiting for the command byte. */
  WaitCmd: 2,
  InFrame: 3,
  /** FE seen inside a frame: F0, 0D or FE must follow. */
  InFrameFe: 4,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Streaming frame parser. `push()` accepts chunks split and coalesced anywhere, returns the events the
 * chunk completed, and never throws. Memory is bounded by `maxFrameBytes` (unstuffed cmd + data + crc).
 *
 * Every rejected byte is reported: a bad frame as one error event (E_SATEL_CRC / E_SATEL_FRAME, with the
 * wire bytes it dropped), a run of stray bytes between frames as one E_SATEL_FRAME event when the run ends
 * (at the next sync or `Busy!`) or every 4096 bytes.
 */
export class FrameParser {
  readonly #max: number;
  readonly #buf: Buffer;
  #len = 0;
  #state: State = State.Idle;
  /** Wire bytes consumed by the frame being assembled, including its leading FE FE. */
  #frameWire = 0;
  /** Stray bytes in the current run, not yet reported. */
  #garbage = 0;
  /** Bytes of `Busy!\r\n` matched so far. */
  #busyIdx = 0;
  #busyPrefixed = false;
  #lastIdle = -1;

  constructor(opts?: { maxFrameBytes?: number }) {
    const max = opts?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 3) throw new RangeError(`maxFrameBytes must be an integer >= 3, got ${String(max)}`);
    this.#max = max;
    this.#buf = Buffer.alloc(max);
  }

  /** Unstuffed bytes of the frame currently being assembled (never more than maxFrameBytes). */
  get bufferedBytes(): number {
    return this.#len;
  }

  /** Forgets any partial frame and unreported stray bytes (e.g. after a reconnect). */
  reset(): void {
    this.#len = 0;
    this.#state = State.Idle;
    this.#frameWire = 0;
    this.#garbage = 0;
    this.#busyIdx = 0;
    this.#busyPrefixed = false;
    this.#lastIdle = -1;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    for (const b of chunk) this.#byte(b, events);
    return events;
  }

  #byte(b: number, events: FrameEvent[]): void {
    switch (this.#state) {
      case State.Idle:
        if (b === SYNC) this.#state = State.IdleFe;
        else this.#stray(b, events);
        return;
      case State.IdleFe:
        if (b === SYNC) {
          this.#flushGarbage(events);
          this.#startFrame();
        } else {
          // A lone FE is not a sync: it and this byte are stray.
          this.#stray(SYNC, events);
          this.#state = State.Idle;
          this.#byte(b, events);
        }
        return;
      case State.WaitCmd:
        this.#frameWire++;
        if (b !== SYNC) {
          this.#state = State.InFrame;
          this.#append(b, events);
        }
        return;
      case State.InFrame:
        this.#frameWire++;
        if (b === SYNC) this.#state = State.InFrameFe;
        else this.#append(b, events);
        return;
      case State.InFrameFe:
        this.#frameWire++;
        if (b === STUFFED) {
          this.#state = State.InFrame;
          this.#append(SYNC, events);
        } else if (b === END) {
          this.#endFrame(events);
        } else if (b === SYNC) {
          // Two FE in a row: a new frame starts; the partial one is dropped.
          this.#reject(events, 'E_SATEL_FRAME', 'partial frame dropped by a new sync', this.#frameWire - 2);
          this.#startFrame();
        } else {
          this.#reject(events, 'E_SATEL_FRAME', `FE followed by 0x${hex(b)} inside a frame`, this.#frameWire);
          this.#state = State.Idle;
        }
        return;
    }
  }

  #startFrame(): void {
    this.#state = State.WaitCmd;
    this.#len = 0;
    this.#frameWire = 2;
    this.#busyIdx = 0;
    this.#lastIdle = -1;
  }

  #append(b: number, events: FrameEvent[]): void {
    if (this.#len >= this.#max) {
      this.#reject(events, 'E_SATEL_FRAME', `frame longer than ${this.#max} bytes`, this.#frameWire);
      this.#state = State.Idle;
      return;
    }
    this.#buf[this.#len++] = b;
  }

  #endFrame(events: FrameEvent[]): void {
    const len = this.#len;
    if (len < 3) {
      this.#reject(events, 'E_SATEL_FRAME', `frame of ${len} bytes, at least cmd + 2 CRC bytes needed`, this.#frameWire);
    } else {
      const body = this.#buf.subarray(0, len - 2);
      const got = (this.#buf[len - 2]! << 8) | this.#buf[len - 1]!;
      const want = crc16(body);
      if (got !== want) {
        this.#reject(events, 'E_SATEL_CRC', `CRC 0x${hex(got, 4)} != computed 0x${hex(want, 4)} (cmd 0x${hex(body[0]!)})`, this.#frameWire);
      } else {
        events.push({ type: 'frame', cmd: body[0]!, data: Buffer.from(body.subarray(1)) });
      }
    }
    this.#state = State.Idle;
    this.#len = 0;
    this.#frameWire = 0;
  }

  #reject(events: FrameEvent[], code: 'E_SATEL_CRC' | 'E_SATEL_FRAME', reason: string, bytes: number): void {
    events.push({ type: 'error', code, reason, bytes });
    this.#len = 0;
    this.#frameWire = 0;
  }

  /** A byte outside any frame: stray, unless it completes `Busy!\r\n`. */
  #stray(b: number, events: FrameEvent[]): void {
    this.#garbage++;
    if (b === BUSY[this.#busyIdx]) {
      if (this.#busyIdx === 0) this.#busyPrefixed = this.#lastIdle === BUSY_PREFIX;
      this.#busyIdx++;
      if (this.#busyIdx === BUSY.length) {
        this.#garbage = Math.max(0, this.#garbage - BUSY.length - (this.#busyPrefixed ? 1 : 0));
        this.#flushGarbage(events);
        events.push({ type: 'busy' });
        this.#busyIdx = 0;
        this.#lastIdle = -1;
        return;
      }
    } else {
      this.#busyIdx = b === BUSY[0] ? 1 : 0;
      this.#busyPrefixed = this.#busyIdx === 1 && this.#lastIdle === BUSY_PREFIX;
    }
    this.#lastIdle = b;
    if (this.#garbage >= GARBAGE_REPORT_BYTES && this.#busyIdx === 0) this.#flushGarbage(events);
  }

  #flushGarbage(events: FrameEvent[]): void {
    if (this.#garbage === 0) return;
    events.push({ type: 'error', code: 'E_SATEL_FRAME', reason: `skipped ${this.#garbage} stray bytes outside frames`, bytes: this.#garbage });
    this.#garbage = 0;
  }
}

function hex(n: number, width = 2): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}
