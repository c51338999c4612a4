import { protocolError, requestError } from './errors.ts';

/** Bitmap sizes in bytes: zones/outputs 16 (128 objects) or 32 on INTEGRA 256 Plus; partitions 4; doors 8. */
export const BitmapBytes = {
  zones: 16,
  zonesExtended: 32,
  partitions: 4,
  doors: 8,
} as const;

/** Object numbers (from 1) whose bit is set: object n is bit (n-1)%8 of byte (n-1)/8, LSB first. */
export function bitmapToNumbers(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length; i++) {
    const byte = bitmap[i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit + 1);
  }
  return out;
}

/** A bitmap of `bytes` bytes with the given object numbers (1 … bytes*8) set. */
export function numbersToBitmap(numbers: Iterable<number>, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1 || n > bytes * 8) {
      throw requestError(`object number ${String(n)} does not fit a ${bytes}-byte bitmap (1..${bytes * 8})`);
    }
    out[(n - 1) >> 3]! |= 1 << ((n - 1) & 7);
  }
  return out;
}

const USER_CODE_BYTES = 8;

/**
 * User code as the panel wants it: 8 bytes of BCD digits padded with 0xF, prefix first when used.
 * `encodeUserCode('1234')` → `12 34 FF FF FF FF FF FF`.
 */
export function encodeUserCode(code: string, prefix = ''): Buffer {
  const digits = prefix + code;
  if (!/^\d+$/.test(code) || !/^\d*$/.test(prefix)) throw requestError('user code and prefix must be decimal digits only');
  if (digits.length > USER_CODE_BYTES * 2) {
    throw requestError(`user code with prefix has ${digits.length} digits, at most ${USER_CODE_BYTES * 2} fit`);
  }
  const out = Buffer.alloc(USER_CODE_BYTES, 0xff);
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(i) - 0x30;
    const idx = i >> 1;
    out[idx] = i % 2 === 0 ? (d << 4) | 0x0f : (out[idx]! & 0xf0) | d;
  }
  return out;
}

/** Digits of an 8-byte user code (prefix and code together; the panel cannot tell them apart). */
export function decodeUserCode(bytes: Uint8Array): string {
  if (bytes.length !== USER_CODE_BYTES) throw protocolError(`user code must be ${USER_CODE_BYTES} bytes, got ${bytes.length}`);
  let digits = '';
  let ended = false;
  for (const b of bytes) {
    for (const nibble of [b >> 4, b & 0x0f]) {
      if (nibble === 0x0f) {
        ended = true;
      } else if (ended || nibble > 9) {
        throw protocolError('user code is not BCD digits padded with 0xF');
      } else {
        digits += String(nibble);
      }
    }
  }
  if (digits.length === 0) throw protocolError('user code is empty');
  return digits;
}

/** Two-digit packed BCD byte → 0..99; throws on nibbles above 9. */
export function bcdToNumber(byte: number): number {
  const hi = byte >> 4;
  const lo = byte & 0x0f;
  if (hi > 9 || lo > 9) throw protocolError(`0x${byte.toString(16).padStart(2, '0')} is not a BCD byte`);
  return hi * 10 + lo;
}

export function numberToBcd(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 99) throw requestError(`${n} does not fit one BCD byte`);
  return (Math.floor(n / 10) << 4) | n % 10;
}
