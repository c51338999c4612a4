/**
 * ETHM-1 Plus integration encryption, a per-connection layer under the frames. Not in Satel's public
 * text; follows the three public implementations that agree (see the protocol reference):
 *
 * - key: first 12 ASCII characters of the integration key, space-padded to 12, twice → AES-192;
 * - mode: cv = E(0^16); full block c = E(p ⊕ cv), cv = c; tail of n < 16 bytes c = p ⊕ E(cv)[0..n);
 *   a plaintext shorter than 16 bytes is zero-padded to 16;
 * - PDU = [rand 2][counter 2 BE][id_s][id_r] + one complete frame; wire = [length 1][encrypted PDU];
 * - the received id_s is the next id_r sent; a received id_r other than our id_s is an error.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Cipher, Decipher } from 'node:crypto';
import { requestError, StamError } from './errors.ts';

const BLOCK = 16;
const HEADER = 6;
const MAX_PDU = 0xff;
/** Largest frame (stuffed, with FE FE … FE 0D) that fits one PDU. */
export const MAX_ENCRYPTED_FRAME_BYTES = MAX_PDU - HEADER;

/** 24-byte AES-192 key from the integration key. Throws E_CONFIG for non-ASCII characters. */
export function integrationAesKey(integrationKey: string): Buffer {
  const first12 = integrationKey.slice(0, 12);
  if (!/^[\x20-\x7e]*$/.test(first12)) throw new StamError('E_CONFIG', 'Satel integration key must be printable ASCII');
  const half = Buffer.from(first12.padEnd(12, ' '), 'latin1');
  return Buffer.concat([half, half]);
}

/** The integration block mode over AES-192-ECB (node:crypto, no padding). Stateless between PDUs. */
export class IntegrationBlockMode {
  readonly #enc: Cipher;
  readonly #dec: Decipher;
  readonly #cv0: Buffer;

  constructor(aesKey: Buffer) {
    if (aesKey.length !== 24) throw new RangeError('AES-192 key must be 24 bytes');
    this.#enc = createCipheriv('aes-192-ecb', aesKey, null).setAutoPadding(false);
    this.#dec = createDecipheriv('aes-192-ecb', aesKey, null).setAutoPadding(false);
    this.#cv0 = this.#e(Buffer.alloc(BLOCK));
  }

  #e(block: Buffer): Buffer {
    return this.#enc.update(block);
  }

  encrypt(plain: Uint8Array): Buffer {
    const p = Buffer.alloc(Math.max(plain.length, BLOCK));
    p.set(plain);
    const out = Buffer.alloc(p.length);
    let cv = this.#cv0;
    let i = 0;
    for (; i + BLOCK <= p.length; i += BLOCK) {
      cv = this.#e(xor(p.subarray(i, i + BLOCK), cv));
      cv.copy(out, i);
    }
    if (i < p.length) xor(p.subarray(i), this.#e(cv)).copy(out, i);
    return out;
  }

  decrypt(cipher: Uint8Array): Buffer {
    const c = Buffer.from(cipher);
    const out = Buffer.alloc(c.length);
    let cv = this.#cv0;
    let i = 0;
    for (; i + BLOCK <= c.length; i += BLOCK) {
      const block = c.subarray(i, i + BLOCK);
      xor(this.#dec.update(block), cv).copy(out, i);
      cv = block;
    }
    if (i < c.length) xor(c.subarray(i), this.#e(cv)).copy(out, i);
    return out;
  }
}

/** `a` XOR the first a.length bytes of `b`, as a new buffer. */
function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

interface CipherError {
  code: 'E_SATEL_CRYPTO';
  reason: string;
  /** Wire bytes dropped. */
  bytes: number;
}

interface IntegrationCipherOptions {
  /** Our session id byte (id_s), constant for the connection; random by default. */
  idS?: number;
  /** Random source for the 2 random header bytes (tests pass a deterministic one). */
  random?: (n: number) => Buffer;
}

/**
 * One per connection, usable on either side: the client wraps requests and unwraps answers, the panel
 * simulator the reverse. `unwrap` takes arbitrary TCP chunks and returns the complete frames inside
 * (feed them to a FrameParser); memory is bounded by one PDU (256 bytes). Never throws on input.
 */
export class IntegrationCipher {
  readonly #mode: IntegrationBlockMode;
  readonly #random: (n: number) => Buffer;
  readonly #idS: number;
  #idR = 0;
  #counter = 0;
  #sent = false;
  readonly #pdu = Buffer.alloc(MAX_PDU);
  /** Length of the PDU being received (0 = waiting for the length byte). */
  #want = 0;
  #have = 0;
  #desynced = false;

  constructor(integrationKey: string, opts: IntegrationCipherOptions = {}) {
    this.#mode = new IntegrationBlockMode(integrationAesKey(integrationKey));
    this.#random = opts.random ?? randomBytes;
    const idS = opts.idS ?? this.#random(1)[0]!;
    if (!Number.isInteger(idS) || idS < 0 || idS > 0xff) throw requestError(`id_s must be a byte, got ${idS}`);
    this.#idS = idS;
  }

  get idS(): number {
    return this.#idS;
  }
  /** The id_r our next PDU carries: the id_s last received (0 before any). */
  get idR(): number {
    return this.#idR;
  }
  /** The counter our next PDU carries. */
  get counter(): number {
    return this.#counter;
  }
  /** Bytes of a partial PDU held between chunks (at most 255). */
  get bufferedBytes(): number {
    return this.#have;
  }

  /** Encrypts one complete frame (from encodeFrame) into `[length][encrypted PDU]`. */
  wrap(frame: Uint8Array): Buffer {
    if (frame.length > MAX_ENCRYPTED_FRAME_BYTES) {
      throw requestError(`frame of ${frame.length} bytes does not fit an encrypted PDU (max ${MAX_ENCRYPTED_FRAME_BYTES})`);
    }
    const header = Buffer.alloc(HEADER);
    this.#random(2).copy(header, 0, 0, 2);
    header.writeUInt16BE(this.#counter, 2);
    header[4] = this.#idS;
    header[5] = this.#idR;
    this.#counter = (this.#counter + 1) & 0xffff;
    this.#sent = true;
    const encrypted = this.#mode.encrypt(Buffer.concat([header, frame]));
    return Buffer.concat([Uint8Array.of(encrypted.length), encrypted]);
  }

  unwrap(chunk: Uint8Array): { frames: Buffer[]; errors: CipherError[] } {
    const frames: Buffer[] = [];
    const errors: CipherError[] = [];
    if (this.#desynced) {
      if (chunk.length > 0) errors.push({ code: 'E_SATEL_CRYPTO', reason: 'stream out of sync after a bad PDU length; reconnect', bytes: chunk.length });
      return { frames, errors };
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#want === 0) {
        const len = chunk[i++]!;
        if (len < BLOCK) {
          this.#desynced = true;
          errors.push({ code: 'E_SATEL_CRYPTO', reason: `PDU length ${len} below ${BLOCK}: wrong key or not an encrypted stream; reconnect`, bytes: chunk.length - i + 1 });
          return { frames, errors };
        }
        this.#want = len;
        this.#have = 0;
        continue;
      }
      const take = Math.min(this.#want - this.#have, chunk.length - i);
      this.#pdu.set(chunk.subarray(i, i + take), this.#have);
      this.#have += take;
      i += take;
      if (this.#have === this.#want) {
        this.#receive(this.#mode.decrypt(this.#pdu.subarray(0, this.#want)), frames, errors);
        this.#want = 0;
        this.#have = 0;
      }
    }
    return { frames, errors };
  }

  #receive(pdu: Buffer, frames: Buffer[], errors: CipherError[]): void {
    const idS = pdu[4]!;
    const idR = pdu[5]!;
    if (this.#sent && idR !== this.#idS) {
      errors.push({ code: 'E_SATEL_CRYPTO', reason: `PDU id_r 0x${hexByte(idR)} is not our id_s 0x${hexByte(this.#idS)} (wrong key or stale session)`, bytes: pdu.length + 1 });
      return;
    }
    this.#idR = idS;
    frames.push(frameOf(pdu.subarray(HEADER)));
  }

  /** New connection: counter and id_r restart, buffered bytes are dropped. */
  reset(): void {
    this.#idR = 0;
    this.#counter = 0;
    this.#sent = false;
    this.#want = 0;
    this.#have = 0;
    this.#desynced = false;
  }
}

/**
 * The frame inside a PDU, without the zero padding a short PDU carries after it: skip the FE sync run, then
 * the first FE 0D ends the frame (stuffing keeps it out of the body; `FE FE 0D` is a sync and cmd 0x0D).
 */
function frameOf(body: Buffer): Buffer {
  let i = 0;
  while (body[i] === 0xfe) i++;
  for (i++; i + 1 < body.length; i++) {
    if (body[i] !== 0xfe) continue;
    if (body[i + 1] === 0x0d) return Buffer.from(body.subarray(0, i + 2));
    i++; // FE F0 (or a bad pair the frame parser will report)
  }
  return Buffer.from(body);
}

function hexByte(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
