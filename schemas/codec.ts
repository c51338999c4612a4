import type { Type } from 'avsc';
import { StamError } from '../platform/errors.ts';
import { loadHistory, loadSchema } from './load.ts';
import type { SchemaTypes, TopicSchemaName } from './types.ts';

/**
 * Avro single-object encoding: `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer
 * schema's Parsing Canonical Form, then the Avro binary body. Any Avro library holding the `.avsc` files
 * decodes a topic without a registry.
 */

export type { TopicSchemaName } from './types.ts';

export interface Codec<T> {
  name: TopicSchemaName;
  /** Fingerprint of the current schema, 8 bytes little-endian (as on the wire). */
  fingerprint: Buffer;
  /** Validates, then encodes; `E_EVENT_INVALID` names the bad field path. */
  encode(value: T): Buffer;
  /** Reads the current or any previous version; throws only `StamError` (`E_AVRO_MAGIC`, `E_AVRO_UNKNOWN_SCHEMA`, `E_AVRO_DECODE`). */
  decode(buf: Buffer): T;
}

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
const HEADER_LENGTH = 10;

type Resolver = ReturnType<Type['createResolver']>;

const codecs = new Map<TopicSchemaName, Codec<unknown>>();

export function codecFor<N extends TopicSchemaName>(name: N): Codec<SchemaTypes[N]> {
  let codec = codecs.get(name);
  if (codec === undefined) {
    codec = createCodec(name);
    codecs.set(name, codec);
  }
  return codec as Codec<SchemaTypes[N]>;
}

function createCodec(name: TopicSchemaName): Codec<unknown> {
  const current = loadSchema(name);
  const type = current.type;
  const header = Buffer.concat([SINGLE_OBJECT_MAGIC, current.fingerprint.bytes]);
  // Writer fingerprint (hex of the wire bytes) → resolver, or null when the writer is the current schema.
  const readers = new Map<string, Resolver | null>([[current.fingerprint.bytes.toString('hex'), null]]);
  for (const old of loadHistory(name)) {
    const key = old.fingerprint.bytes.toString('hex');
    if (readers.has(key)) continue;
    try {
      readers.set(key, type.createResolver(old.type));
    } catch (cause) {
      throw new Error(`${name}: the current schema cannot read history v${old.version} (incompatible change)`, { cause });
    }
  }

  return {
    name,
    fingerprint: Buffer.from(current.fingerprint.bytes),

    encode(value: unknown): Buffer {
      const problems: string[] = [];
      const paths: string[] = [];
      const valid = type.isValid(value, {
        noUndeclaredFields: true,
        errorHook: (path: string[], val: unknown, t: Type) => {
          const at = path.length > 0 ? path.join('.') : '(root)';
          paths.push(at);
          problems.push(describeProblem(at, val, t));
        },
      });
      if (!valid) {
        throw new StamError('E_EVENT_INVALID', `${name}: ${problems.join('; ')}`, { details: { schema: name, fields: paths } });
      }
      return Buffer.concat([header, type.toBuffer(value)]);
    },

    decode(buf: Buffer): unknown {
      if (!(buf instanceof Uint8Array)) {
        throw new StamError('E_AVRO_MAGIC', `${name}: expected bytes, got ${buf === null ? 'null' : typeof buf}`, { details: { schema: name } });
      }
      if (buf.length < 2 || buf[0] !== 0xc3 || buf[1] !== 0x01) {
        const start = Buffer.from(buf.subarray(0, 2)).toString('hex');
        throw new StamError('E_AVRO_MAGIC', `${name}: message starts with '${start}', not 'c301'`, { details: { schema: name } });
      }
      if (buf.length < HEADER_LENGTH) {
        throw new StamError('E_AVRO_MAGIC', `${name}: ${buf.length}-byte message is shorter than the 10-byte single-object header`, { details: { schema: name } });
      }
      const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      const wire = bytes.subarray(2, HEADER_LENGTH);
      const resolver = readers.get(wire.toString('hex'));
      if (resolver === undefined) {
        const fingerprint = wire.readBigUInt64LE(0).toString(16).padStart(16, '0');
        throw new StamError('E_AVRO_UNKNOWN_SCHEMA', `${name}: unknown schema fingerprint 0x${fingerprint}`, { details: { schema: name, fingerprint } });
      }
      try {
        return type.fromBuffer(bytes.subarray(HEADER_LENGTH), resolver ?? undefined) as unknown;
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new StamError('E_AVRO_DECODE', `${name}: ${reason}`, { cause, details: { schema: name } });
      }
    },
  };
}

function describeProblem(at: string, val: unknown, t: Type): string {
  if (t.typeName === 'record' && val !== null && typeof val === 'object' && !Array.isArray(val)) {
    const declared = new Set((t as unknown as { fields: { name: string }[] }).fields.map((f) => f.name));
    const extra = Object.keys(val).filter((k) => !declared.has(k));
    if (extra.length > 0) return `${at}: unexpected field(s) ${extra.join(', ')}`;
  }
  return `${at}: ${show(val)} is not a valid ${JSON.stringify(t.schema({ noDeref: true }))}`;
}

function show(val: unknown): string {
  if (val === undefined) return 'undefined (missing)';
  if (typeof val === 'bigint') return `${val}n`;
  const text = JSON.stringify(val) ?? `a ${typeof val}`;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
