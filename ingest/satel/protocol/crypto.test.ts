import { describe, expect, it } from 'vitest';
import { IntegrationBlockMode, IntegrationCipher, integrationAesKey, MAX_ENCRYPTED_FRAME_BYTES } from './crypto.ts';
import { encodeFrame, FrameParser } from './frame.ts';
import type { FrameEvent } from './frame.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Deterministic "random" bytes so PDUs are reproducible. */
const counterRandom = (): ((n: number) => Buffer) => {
  let x = 1;
  return (n) => Buffer.from(Array.from({ length: n }, () => (x = (x * 75 + 74) % 257) & 0xff));
};
const pair = (clientKey = 'integration1', panelKey = clientKey) => ({
  client: new IntegrationCipher(clientKey, { idS: 0x21, random: counterRandom() }),
  panel: new IntegrationCipher(panelKey, { idS: 0x99, random: counterRandom() }),
});
/** Decrypts one wire PDU without the session checks, to look at its header. */
const openPdu = (key: string, wire: Buffer): Buffer => {
  expect(wire[0]).toBe(wire.length - 1);
  return new IntegrationBlockMode(integrationAesKey(key)).decrypt(wire.subarray(1));
};

describe('integration key → AES-192 key', () => {
  it('takes the first 12 ASCII characters, pads with spaces and repeats them', () => {
    expect(integrationAesKey('').toString('latin1')).toBe(' '.repeat(24));
    expect(integrationAesKey('short_key').toString('latin1')).toBe('short_key   short_key   ');
    expect(integrationAesKey('long_key1234').toString('latin1')).toBe('long_key1234long_key1234');
    expect(integrationAesKey('too_long_key1234').toString('latin1')).toBe('too_long_keytoo_long_key');
  });
  it('refuses non-ASCII keys with E_CONFIG', () => {
    expect(() => integrationAesKey('klucz-żółw')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});

describe('block mode', () => {
  // Known answer shared by the public implementations (c-soft/satel_integra test suite): a full block and a 4-byte tail.
  const plain = hex('52 3D 00 03 00 54 FE FE 7F FF FF FF FF FF FF FE F0 8A FE 0D');
  const cipher = hex('43 D8 64 30 7E 6B 84 31 CD 75 59 CE 2E F9 D4 1F 26 61 5C 2F');
  const mode = new IntegrationBlockMode(integrationAesKey('some_key'));

  it('encrypts the known answer', () => {
    expect(mode.encrypt(plain)).toEqual(cipher);
  });
  it('decrypts the known answer', () => {
    expect(mode.decrypt(cipher)).toEqual(plain);
  });
  it('zero-pads a plaintext shorter than 16 bytes', () => {
    const c = mode.encrypt(Buffer.from('short message'));
    expect(c).toHaveLength(16);
    expect(mode.decrypt(c)).toEqual(Buffer.concat([Buffer.from('short message'), Buffer.alloc(3)]));
  });
  it('round-trips every length from 16 to 255', () => {
    for (let n = 16; n <= 255; n++) {
      const p = Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff));
      const c = mode.encrypt(p);
      expect(c).toHaveLength(n);
      expect(c.equals(p)).toBe(false);
      expect(mode.decrypt(c)).toEqual(p);
    }
  });
});

describe('IntegrationCipher', () => {
  it('carries a frame from client to panel and the answer back', () => {
    const { client, panel } = pair();
    const request = encodeFrame(0x7c);
    const wire = client.wrap(request);
    expect(panel.unwrap(wire)).toEqual({ frames: [request], errors: [] });
    const answer = encodeFrame(0x7c, Buffer.concat([Buffer.from('12320120527'), hex('01')]));
    expect(client.unwrap(panel.wrap(answer))).toEqual({ frames: [answer], errors: [] });
  });
  it('builds the PDU header [rand 2][counter BE][id_s][id_r] and increments the counter per PDU', () => {
    const { client } = pair();
    const headers = [0, 1, 2].map(() => openPdu('integration1', client.wrap(encodeFrame(0x00))).subarray(2, 6).toString('hex'));
    expect(headers).toEqual(['00002100', '00012100', '00022100']);
    expect(client.counter).toBe(3);
  });
  it('wraps the counter after 0xFFFF', () => {
    const { client } = pair();
    for (let i = 0; i < 0xffff; i++) client.wrap(encodeFrame(0x00));
    expect(openPdu('integration1', client.wrap(encodeFrame(0x00))).readUInt16BE(2)).toBe(0xffff);
    expect(openPdu('integration1', client.wrap(encodeFrame(0x00))).readUInt16BE(2)).toBe(0);
  });
  it('finds the end of a frame whose command is 0x0D (FE FE 0D is not the end marker)', () => {
    const { client, panel } = pair();
    const frames = [encodeFrame(0x0d), encodeFrame(0x0d, hex('FE 0D'))];
    expect(panel.unwrap(Buffer.concat(frames.map((f) => client.wrap(f)))).frames).toEqual(frames);
  });
  it('pads a short PDU to 16 bytes and strips the padding after the frame on receipt', () => {
    const { client, panel } = pair();
    const frame = encodeFrame(0x00);
    const wire = client.wrap(frame);
    expect(wire).toHaveLength(17);
    expect(wire[0]).toBe(16);
    expect(panel.unwrap(wire).frames).toEqual([frame]);
  });
  it('sends the id_s it received as its next id_r, starting from 0', () => {
    const { client, panel } = pair();
    expect(client.idR).toBe(0);
    panel.unwrap(client.wrap(encodeFrame(0x00)));
    expect(panel.idR).toBe(0x21);
    expect(openPdu('integration1', panel.wrap(encodeFrame(0xef, hex('00'))))[5]).toBe(0x21);
    client.unwrap(panel.wrap(encodeFrame(0xef, hex('00'))));
    expect(client.idR).toBe(0x99);
    expect(openPdu('integration1', client.wrap(encodeFrame(0x00))).subarray(4, 6)).toEqual(hex('21 99'));
  });
  it('rejects a PDU whose id_r is not the id_s it sent, and keeps going', () => {
    const { client, panel } = pair();
    const stranger = new IntegrationCipher('integration1', { idS: 0x55, random: counterRandom() });
    client.wrap(encodeFrame(0x00));
    stranger.unwrap(new IntegrationCipher('integration1', { idS: 0x22 }).wrap(encodeFrame(0x00)));
    const bad = stranger.wrap(encodeFrame(0xef, hex('00')));
    const r = client.unwrap(bad);
    expect(r.frames).toEqual([]);
    expect(r.errors).toEqual([{ code: 'E_SATEL_CRYPTO', reason: expect.stringContaining('id_r 0x22 is not our id_s 0x21'), bytes: bad.length }]);
    panel.unwrap(client.wrap(encodeFrame(0x01)));
    expect(client.unwrap(panel.wrap(encodeFrame(0x01, Buffer.alloc(16)))).errors).toEqual([]);
  });
  it('reassembles PDUs split byte by byte and coalesced, holding at most one PDU', () => {
    const { client, panel } = pair();
    const frames = [encodeFrame(0x00), encodeFrame(0x17, Buffer.alloc(32, 0xfe)), encodeFrame(0x8c, Buffer.alloc(14, 1))];
    const wire = Buffer.concat(frames.map((f) => client.wrap(f)));
    const got: Buffer[] = [];
    for (const b of wire) {
      const r = panel.unwrap(Uint8Array.of(b));
      expect(r.errors).toEqual([]);
      got.push(...r.frames);
      expect(panel.bufferedBytes).toBeLessThanOrEqual(255);
    }
    expect(got).toEqual(frames);
    expect(panel.unwrap(Buffer.concat(frames.map((f) => client.wrap(f)))).frames).toEqual(frames);
  });
  it('turns a wrong key into garbage that the frame parser rejects, without throwing', () => {
    const { client, panel } = pair('integration1', 'integration2');
    const parser = new FrameParser();
    const events: FrameEvent[] = [];
    const cryptoErrors: unknown[] = [];
    for (const cmd of [0x00, 0x7c, 0x7e, 0x17]) {
      const r = panel.unwrap(client.wrap(encodeFrame(cmd, Buffer.alloc(cmd, 0x11))));
      cryptoErrors.push(...r.errors);
      for (const f of r.frames) events.push(...parser.push(f));
    }
    events.push(...parser.push(encodeFrame(0x09)));
    expect(events.filter((e) => e.type === 'frame')).toEqual([{ type: 'frame', cmd: 0x09, data: Buffer.alloc(0) }]);
    expect(events.filter((e) => e.type === 'error').length + cryptoErrors.length).toBeGreaterThan(0);
  });
  it('on the client side a wrong key fails the id check', () => {
    const { client, panel } = pair('integration1', 'integration2');
    panel.unwrap(client.wrap(encodeFrame(0x00)));
    const r = client.unwrap(panel.wrap(encodeFrame(0x00, Buffer.alloc(16))));
    expect(r.frames).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.code).toBe('E_SATEL_CRYPTO');
  });
  it('reports a PDU length below 16 once, then discards the stream until reset', () => {
    const { client, panel } = pair();
    expect(panel.unwrap(hex('05 01 02 03'))).toEqual({
      frames: [],
      errors: [{ code: 'E_SATEL_CRYPTO', reason: expect.stringContaining('PDU length 5 below 16'), bytes: 4 }],
    });
    const later = panel.unwrap(client.wrap(encodeFrame(0x00)));
    expect(later.frames).toEqual([]);
    expect(later.errors).toEqual([{ code: 'E_SATEL_CRYPTO', reason: expect.stringContaining('out of sync'), bytes: 17 }]);
    panel.reset();
    client.reset();
    expect(panel.unwrap(client.wrap(encodeFrame(0x00))).frames).toEqual([encodeFrame(0x00)]);
  });
  it('refuses a frame that does not fit one PDU', () => {
    const { client } = pair();
    expect(client.wrap(Buffer.alloc(MAX_ENCRYPTED_FRAME_BYTES))).toHaveLength(256);
    expect(() => client.wrap(Buffer.alloc(MAX_ENCRYPTED_FRAME_BYTES + 1))).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
});
