import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codecFor } from './codec.ts';
import { unframeMessages } from './fixtures/format.ts';
import { loadHistory, loadSchema, parseSchema } from './load.ts';
import type { Json, SchemaVersion } from './load.ts';
import { TOPIC_SCHEMA_NAMES } from './types.ts';
import type { TopicSchemaName } from './types.ts';

// Schemas only evolve backward-compatibly: the current schema must read everything any published
// version wrote. The evidence is the committed fixtures of every version (fixtures/make-fixtures.ts).

interface Fixture { version: SchemaVersion; messages: Buffer[]; written: Record<string, unknown>[] }

function fixturesOf(name: TopicSchemaName): Fixture[] {
  return loadHistory(name).map((version) => {
    const at = (ext: string) => new URL(`./fixtures/${name}.v${version.version}.${ext}`, import.meta.url);
    expect(existsSync(at('bin')), `${name} v${version.version} has committed fixtures`).toBe(true);
    return {
      version,
      messages: unframeMessages(readFileSync(at('bin'))),
      written: JSON.parse(readFileSync(at('json'), 'utf8')) as Record<string, unknown>[],
    };
  });
}

interface Field { [key: string]: Json; name: string }
type ReaderFields = { fields: { name: string; defaultValue(): unknown }[] };

/** What a reader must see: every written value, and its own default for every field the writer lacked. */
function expectReadAs(decoded: Record<string, unknown>, written: Record<string, unknown>, reader: ReaderFields, what: string): void {
  expect(decoded, what).toMatchObject(written);
  for (const f of reader.fields) {
    if (!(f.name in written)) expect(decoded[f.name], `${what}: ${f.name} (added later) reads as its default`).toEqual(f.defaultValue());
  }
}

type RecordSchema = { fields: Field[] } & Record<string, Json>;

function withExtraField(name: TopicSchemaName, field: Field): RecordSchema {
  const schema = loadSchema(name).schema as unknown as RecordSchema;
  return { ...schema, fields: [...schema.fields, field] };
}

describe('schema evolution', () => {
  it.each(TOPIC_SCHEMA_NAMES)('%s: the current schema is recorded as the latest history version (else run make-fixtures)', (name) => {
    const latest = loadHistory(name).at(-1);
    expect(latest?.canonical).toBe(loadSchema(name).canonical);
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s: every schema still reads the committed fixtures of its previous versions', (name) => {
    const codec = codecFor(name) as { decode(b: Buffer): unknown };
    const reader = loadSchema(name).type as unknown as ReaderFields;
    const fixtures = fixturesOf(name);
    expect(fixtures.length).toBeGreaterThan(0);
    for (const { version, messages, written } of fixtures) {
      expect(messages.length, `${name} v${version.version}`).toBe(written.length);
      expect(messages.length).toBeGreaterThan(1);
      messages.forEach((message, i) => {
        expect(message.subarray(2, 10), 'fixture was written with that version').toEqual(version.fingerprint.bytes);
        expectReadAs(codec.decode(message) as Record<string, unknown>, written[i]!, reader, `${name} v${version.version} #${i}`);
      });
    }
  });

  it('a reader that adds a required field without a default cannot resolve old writers', () => {
    const [v1] = loadHistory('SatelEvent');
    const reader = parseSchema(withExtraField('SatelEvent', { name: 'site_code', type: 'string' }));
    expect(() => reader.createResolver(v1!.type)).toThrow(/site_code/);
  });

  it('a reader that changes a field to an unpromotable type cannot resolve old writers', () => {
    const [v1] = loadHistory('PanelLink');
    const schema = loadSchema('PanelLink').schema as unknown as RecordSchema;
    const reader = parseSchema({ ...schema, fields: schema.fields.map((f) => (f.name === 'panel_id' ? { ...f, type: 'string' } : f)) });
    expect(() => reader.createResolver(v1!.type)).toThrow();
  });

  it.each(TOPIC_SCHEMA_NAMES)('%s: adding an optional field with default null keeps old fixtures readable', (name) => {
    const reader = parseSchema(withExtraField(name, { name: 'added_note', type: ['null', 'string'], default: null }));
    for (const { version, messages, written } of fixturesOf(name)) {
      const resolver = reader.createResolver(version.type);
      messages.forEach((message, i) => {
        const decoded = reader.fromBuffer(message.subarray(10), resolver) as Record<string, unknown>;
        expect(decoded.added_note).toBeNull();
        expectReadAs(decoded, written[i]!, reader as unknown as ReaderFields, `${name} v${version.version} #${i}`);
      });
    }
  });

  it('a kind symbol added by a newer writer reads as UNKNOWN (enum default)', () => {
    const current = loadSchema('SatelEvent');
    const newer = current.schema as unknown as RecordSchema;
    const writer = parseSchema({
      ...newer,
      fields: newer.fields.map((f) => {
        if (f.name !== 'kind') return f;
        const kind = (f as unknown as { type: { symbols: string[] } }).type;
        return { ...f, type: { ...kind, symbols: [...kind.symbols, 'ZONE_MASKED'] } };
      }),
    });
    const [, sample] = fixturesOf('SatelEvent')[0]!.written;
    const body = writer.toBuffer({ ...sample, kind: 'ZONE_MASKED' });
    const decoded = current.type.fromBuffer(body, current.type.createResolver(writer)) as Record<string, unknown>;
    expect(decoded).toEqual({ ...sample, kind: 'UNKNOWN' });
  });
});
