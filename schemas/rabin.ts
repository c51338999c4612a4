/**
 * CRC-64-AVRO (Rabin) fingerprint, as defined by the Avro specification ("Schema Fingerprints"):
 * the fingerprint of a schema is this function over the UTF-8 bytes of its Parsing Canonical Form.
 */

const EMPTY = 0xc15d213aa4d7a795n;

const TABLE: readonly bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp;
});

export interface Fingerprint {
  /** The unsigned 64-bit value. */
  value: bigint;
  /** The 8 bytes little-endian, as written after `C3 01` in single-object encoding. */
  bytes: Buffer;
}

export function rabinFingerprint(data: string | Uint8Array): Fingerprint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)]!;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return { value: fp, bytes: out };
}
