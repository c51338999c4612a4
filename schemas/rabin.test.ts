import avro from 'avsc';
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSchema } from './load.ts';
import { rabinFingerprint } from './rabin.ts';
import { TOPIC_SCHEMA_NAMES } from './types.ts';

// Apache Avro share/test/data/schema-tests.txt: input, Parsing Canonical Form, published fingerprint
// (signed decimal of the 64-bit CRC-64-AVRO value). `avsc: false` marks inputs avsc refuses to parse.
const PUBLISHED: { input: string; canonical: string; fingerprint: bigint; avsc?: false }[] = [
  { input: '"null"', canonical: '"null"', fingerprint: 7195948357588979594n },
  { input: '"boolean"', canonical: '"boolean"', fingerprint: -6970731678124411036n },
  { input: '"int"', canonical: '"int"', fingerprint: 8247732601305521295n },
  { input: '"long"', canonical: '"long"', fingerprint: -3434872931120570953n },
  { input: '"float"', canonical: '"float"', fingerprint: 5583340709985441680n },
  { input: '"double"', canonical: '"double"', fingerprint: -8181574048448539266n },
  { input: '"bytes"', canonical: '"bytes"', fingerprint: 5746618253357095269n },
  { input: '"string"', canonical: '"string"', fingerprint: -8142146995180207161n },
  { input: '[  ]', canonical: '[]', fingerprint: -1241056759729112623n, avsc: false },
  { input: '[ "int"  ]', canonical: '["int"]', fingerprint: -5232228896498058493n },
  { input: '[ "int" , {"type":"boolean"} ]', canonical: '["int","boolean"]', fingerprint: 5392556393470105090n },
  { input: '{"fields":[], "type":"record", "name":"foo"}', canonical: '{"name":"foo","type":"record","fields":[]}', fingerprint: -4824392279771201922n },
  { input: '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}', canonical: '{"name":"x.y.foo","type":"record","fields":[]}', fingerprint: 5916914534497305771n },
  { input: '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}', canonical: '{"name":"a.b.foo","type":"record","fields":[]}', fingerprint: -4616218487480524110n },
  { input: '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}', canonical: '{"name":"foo","type":"record","fields":[]}', fingerprint: -4824392279771201922n },
  {
    input: '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    fingerprint: 7843277075252814651n,
  },
  {
    // avsc rejects the string default "true" of a boolean field; the canonical form drops defaults anyway.
    input: '{"fields":[{"type":"boolean","aliases":[],"name":"f1","default":"true"},{"order":"descending","name":"f2","doc":"Hello","type":"int"}],"type":"record","name":"foo"}',
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    fingerprint: -4860222112080293046n,
    avsc: false,
  },
  { input: '{"type":"enum", "name":"foo", "symbols":["A1"]}', canonical: '{"name":"foo","type":"enum","symbols":["A1"]}', fingerprint: -6342190197741309591n },
  {
    input: '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    canonical: '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    fingerprint: -4448647247586288245n,
  },
  { input: '{"name":"foo","type":"fixed","size":15}', canonical: '{"name":"foo","type":"fixed","size":15}', fingerprint: 1756455273707447556n },
  {
    input: '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
    canonical: '{"name":"x.y.z.foo","type":"fixed","size":32}',
    fingerprint: -3064184465700546786n,
  },
  { input: '{ "items":{"type":"null"}, "type":"array"}', canonical: '{"type":"array","items":"null"}', fingerprint: -589620603366471059n },
  { input: '{ "values":"string", "type":"map"}', canonical: '{"type":"map","values":"string"}', fingerprint: -8732877298790414990n },
  {
    input: '{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    canonical: '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    fingerprint: -1759257747318642341n,
  },
];

/** Independent reference: reduce bit by bit (x^64 + … polynomial, LSB first), no table. */
function bitwiseFingerprint(text: string): bigint {
  const EMPTY = 0xc15d213aa4d7a795n;
  let fp = EMPTY;
  for (const byte of Buffer.from(text, 'utf8')) {
    fp ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) fp = (fp & 1n) === 1n ? (fp >> 1n) ^ EMPTY : fp >> 1n;
  }
  return fp;
}

describe('CRC-64-AVRO (Rabin) fingerprint', () => {
  it.each(PUBLISHED)('matches the published fingerprint of $canonical', ({ canonical, fingerprint }) => {
    expect(BigInt.asIntN(64, rabinFingerprint(canonical).value)).toBe(fingerprint);
  });

  it('returns the 64-bit value as 8 little-endian bytes', () => {
    const { value, bytes } = rabinFingerprint('"int"');
    expect(bytes).toHaveLength(8);
    expect(bytes.readBigUInt64LE(0)).toBe(value);
    expect(bytes[0]).toBe(Number(value & 0xffn));
    expect(rabinFingerprint(Buffer.from('"int"')).bytes).toEqual(bytes);
  });

  it('agrees with a bit-by-bit reduction on the canonical forms of every topic schema', () => {
    for (const name of TOPIC_SCHEMA_NAMES) {
      const { canonical, fingerprint } = loadSchema(name);
      expect(fingerprint.value, name).toBe(bitwiseFingerprint(canonical));
    }
    expect(rabinFingerprint('').value).toBe(0xc15d213aa4d7a795n);
    expect(rabinFingerprint('zażółć').value).toBe(bitwiseFingerprint('zażółć'));
  });
});

describe("avsc's JSON.stringify(type.schema())", () => {
  it.each(PUBLISHED.filter((p) => p.avsc !== false))('is the Parsing Canonical Form of $input', ({ input, canonical }) => {
    const type = avro.Type.forSchema(JSON.parse(input) as Schema);
    expect(JSON.stringify(type.schema())).toBe(canonical);
  });

  it('strips docs, defaults, namespaces and logical types and qualifies names in our schemas', () => {
    expect(loadSchema('CommandResult').canonical).toBe(
      '{"name":"stam.v1.CommandResult","type":"record","fields":[{"name":"command_id","type":"string"},' +
        '{"name":"panel_id","type":"long"},{"name":"action","type":"string"},' +
        '{"name":"status","type":{"name":"stam.v1.CommandStatus","type":"enum","symbols":["SUCCEEDED","REJECTED","FAILED","EXPIRED"]}},' +
        '{"name":"reason","type":["null","string"]},{"name":"panel_result_code","type":["null","int"]},' +
        '{"name":"finished_at","type":"long"},' +
        '{"name":"trace","type":["null",{"name":"stam.v1.Trace","type":"record","fields":[{"name":"id","type":"string"},{"name":"origin_ms","type":"long"}]}]}]}',
    );
  });
});
