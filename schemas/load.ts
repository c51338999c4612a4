import { readFileSync, readdirSync } from 'node:fs';
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { rabinFingerprint } from './rabin.ts';
import type { Fingerprint } from './rabin.ts';
import type { TopicSchemaName } from './types.ts';

/**
 * Reading the `.avsc` files into avsc types.
 *
 * - `timestamp-millis` fields are decoded as plain numbers (epoch ms): we deliberately register no
 *   LogicalType, so avsc treats them as `long`. The annotation stays in the files for other readers.
 * - Shared named types (`Trace.avsc`) are referenced by full name (`"stam.v1.Trace"`) and inlined at the
 *   first reference, so every loaded schema is self-contained, as other Avro libraries expect.
 * - `history/<Name>.v<N>.avsc` are self-contained snapshots of every published version (written by
 *   `fixtures/make-fixtures.ts`); they never change once committed.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SchemaVersion {
  /** History version number; 0 for the current working schema. */
  version: number;
  /** Self-contained schema JSON (shared types inlined), with docs and logical types as written. */
  schema: Json;
  type: Type;
  /** Parsing Canonical Form, the text that is fingerprinted. */
  canonical: string;
  fingerprint: Fingerprint;
}

export const SCHEMA_DIR = new URL('./', import.meta.url);
export const HISTORY_DIR = new URL('./history/', import.meta.url);
const SHARED_FILES = ['Trace'] as const;

function readJson(url: URL): Json {
  return JSON.parse(readFileSync(url, 'utf8')) as Json;
}

function fullName(schema: Json): string {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error('shared type must be a named schema object');
  const { name, namespace } = schema;
  if (typeof name !== 'string') throw new Error('shared type has no name');
  return name.includes('.') || typeof namespace !== 'string' ? name : `${namespace}.${name}`;
}

/** Replace the first reference to each shared type (by full name) with its definition. */
export function inlineShared(schema: Json, shared: ReadonlyMap<string, Json>): Json {
  const defined = new Set<string>();
  const visit = (node: Json): Json => {
    if (typeof node === 'string') {
      const definition = shared.get(node);
      if (definition === undefined || defined.has(node)) return node;
      defined.add(node);
      return visit(definition);
    }
    if (Array.isArray(node)) return node.map(visit); // a union
    if (node === null || typeof node !== 'object') return node;
    const out: { [key: string]: Json } = { ...node };
    if (node.type !== undefined) out.type = visit(node.type);
    if (node.items !== undefined) out.items = visit(node.items);
    if (node.values !== undefined) out.values = visit(node.values);
    if (Array.isArray(node.fields)) {
      out.fields = node.fields.map((f) => (f !== null && typeof f === 'object' && !Array.isArray(f) && f.type !== undefined ? { ...f, type: visit(f.type) } : f));
    }
    return out;
  };
  return visit(schema);
}

/** Minimal view of avsc's internal reading cursor, used by the bounded array reader below. */
interface Tap { buf: Buffer; pos: number; readLong(): number; skipLong(): void }
interface InternalType { _read(tap: Tap): unknown }

/**
 * avsc trusts an array's block count: four garbage bytes announcing 10^8 items make it allocate
 * gigabytes before noticing the buffer ended. Every array item in these schemas takes at least one byte,
 * so a block count larger than the bytes left is rejected at once.
 */
class BoundedArrayType extends avro.types.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = this.itemsType as unknown as InternalType;
    const out: unknown[] = [];
    let n: number;
    while ((n = tap.readLong()) !== 0) {
      if (n < 0) {
        n = -n;
        tap.skipLong(); // block size in bytes
      }
      if (n > tap.buf.length - tap.pos) throw new Error(`array block of ${n} items exceeds the ${Math.max(0, tap.buf.length - tap.pos)} bytes left`);
      for (let i = 0; i < n; i++) out.push(items._read(tap));
    }
    return out;
  }
}

/** Parse a self-contained schema the way every codec does (unwrapped `["null", T]` unions, plain-object records). */
export function parseSchema(schema: Json): Type {
  return avro.Type.forSchema(schema as Schema, {
    wrapUnions: 'never',
    omitRecordMethods: true,
    typeHook: (s: Schema, opts: unknown) => (isArraySchema(s) ? new BoundedArrayType(s, opts) : undefined),
  });
}

function isArraySchema(s: Schema): boolean {
  return typeof s === 'object' && !Array.isArray(s) && !avro.Type.isType(s) && (s as { type?: unknown }).type === 'array';
}

function versionOf(version: number, schema: Json): SchemaVersion {
  const type = parseSchema(schema);
  const canonical = JSON.stringify(type.schema());
  return { version, schema, type, canonical, fingerprint: rabinFingerprint(canonical) };
}

/** The current schema of a topic, from `schemas/<Name>.avsc` with shared types inlined. */
export function loadSchema(name: TopicSchemaName): SchemaVersion {
  const shared = new Map<string, Json>();
  for (const file of SHARED_FILES) {
    const definition = readJson(new URL(`${file}.avsc`, SCHEMA_DIR));
    shared.set(fullName(definition), definition);
  }
  return versionOf(0, inlineShared(readJson(new URL(`${name}.avsc`, SCHEMA_DIR)), shared));
}

/** Every published version of a topic schema, oldest first. */
export function loadHistory(name: TopicSchemaName): SchemaVersion[] {
  const pattern = new RegExp(`^${name}\\.v([1-9][0-9]*)\\.avsc$`);
  return readdirSync(HISTORY_DIR)
    .map((file) => ({ file, version: Number(pattern.exec(file)?.[1] ?? 0) }))
    .filter(({ version }) => version > 0)
    .sort((a, b) => a.version - b.version)
    .map(({ file, version }) => versionOf(version, readJson(new URL(file, HISTORY_DIR))));
}
