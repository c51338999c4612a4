import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEALED, addKeyToFile, createSecretBox, generateSecretKey, loadSecretKeyRing, parseSecretKeys, safeConfigView, loadConfig } from './index.ts';

const k1 = generateSecretKey('k1');
const k2 = generateSecretKey('k2');
const dir = mkdtempSync(join(tmpdir(), 'stam-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets at rest (AES-256-GCM key ring)', () => {
  it('seals and opens a secret; the ciphertext names its key and holds no plaintext', () => {
    const box = createSecretBox(parseSecretKeys(k1));
    const sealed = box.encrypt('1234-user-code');
    expect(box.decrypt(sealed)).toBe('1234-user-code');
    expect(box.keyIdOf(sealed)).toBe('k1');
    expect(sealed.includes(Buffer.from('1234-user-code'))).toBe(false);
    // A fresh IV each time: the same secret never seals to the same bytes.
    expect(box.encrypt('1234-user-code').equals(sealed)).toBe(false);
  });

  it('rejects a tampered ciphertext, and a value re-labelled with another key id', () => {
    const box = createSecretBox(parseSecretKeys(`${k1},${k2}`));
    const sealed = box.encrypt('secret');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 0x01;
    expect(() => box.decrypt(flipped)).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
    const relabelled = Buffer.from(sealed);
    relabelled[3] = '2'.charCodeAt(0); // kid "k1" → "k2": the header is authenticated
    expect(() => box.decrypt(relabelled)).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
    expect(() => box.decrypt(Buffer.from('plain text'))).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
  });

  it('rotation: a new first key seals, old values still open, and re-encryption moves them to the new key', () => {
    const old = createSecretBox(parseSecretKeys(k1));
    const sealedOld = old.encrypt('dvr-password');
    const rotated = createSecretBox(parseSecretKeys(`${k2},${k1}`));
    expect(rotated.activeKid).toBe('k2');
    expect(rotated.decrypt(sealedOld)).toBe('dvr-password');
    expect(rotated.needsRotation(sealedOld)).toBe(true);
    const moved = rotated.reencrypt(sealedOld);
    expect(rotated.keyIdOf(moved)).toBe('k2');
    expect(rotated.needsRotation(moved)).toBe(false);
    // Once the old key is dropped, only re-encrypted values open.
    const newOnly = createSecretBox(parseSecretKeys(k2));
    expect(newOnly.decrypt(moved)).toBe('dvr-password');
    expect(() => newOnly.decrypt(sealedOld)).toThrow(expect.objectContaining({ code: 'E_SECRET_KEY' }));
  });

  it('a malformed ring is refused with a message that names the entry but never the key material', () => {
    const shortKey = `bad=${Buffer.alloc(16, 7).toString('base64')}`;
    let message = '';
    try { parseSecretKeys(`${k1},${shortKey}`); } catch (err) { message = (err as Error).message; }
    expect(message).toMatch(/entry 2 \(bad\): the key must be 32 bytes/);
    expect(message).not.toContain(Buffer.alloc(16, 7).toString('base64'));
    expect(message).not.toContain(k1.split('=')[1]);
    expect(() => parseSecretKeys('')).toThrow(/empty/);
    expect(() => parseSecretKeys(`${k1},${k1}`)).toThrow(/appears twice/);
  });

  it('development: a key file is created (mode 0600) when none exists, and a rotation puts a new key first', () => {
    const file = join(dir, 'secrets.keys');
    const ring = loadSecretKeyRing({ keyFile: file, generate: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const sealed = createSecretBox(ring).encrypt('x');
    const kid = addKeyToFile(file);
    const ring2 = loadSecretKeyRing({ keyFile: file, generate: false });
    expect(ring2.activeKid).toBe(kid);
    expect(ring2.keys.size).toBe(2);
    expect(createSecretBox(ring2).decrypt(sealed)).toBe('x');
    expect(readFileSync(file, 'utf8').split('\n')[0]!.startsWith(`${kid}=`)).toBe(true);
    expect(() => loadSecretKeyRing({ keyFile: join(dir, 'none'), generate: false })).toThrow(/SECRETS_KEYS/);
  });

  it('the environment ring wins over the file and is never shown by the config view', () => {
    expect(loadSecretKeyRing({ keys: k2, keyFile: join(dir, 'unused'), generate: false }).activeKid).toBe('k2');
    const config = loadConfig({ SECRETS_KEYS: k1 }, '/dev/null');
    expect(JSON.stringify(safeConfigView(config))).not.toContain(k1.split('=')[1]);
    expect(safeConfigView(config).SECRETS_KEYS).toBe('[redacted]');
  });
});

describe('secrets bound to where they are stored', () => {
  const box = createSecretBox(parseSecretKeys(generateSecretKey('k1')));

  it('a bound value opens only in its own column: copied into another, it fails authentication', () => {
    const sealed = box.encrypt('1234', SEALED.panelUserCode);
    expect(box.decrypt(sealed, SEALED.panelUserCode)).toBe('1234');
    expect(() => box.decrypt(sealed, SEALED.recorderPassword)).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
    expect(() => box.decrypt(sealed)).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
  });

  it('a value sealed before binding still opens, and rotation binds it to its column', () => {
    const legacy = box.encrypt('dvr-pass');
    expect(box.decrypt(legacy, SEALED.recorderPassword)).toBe('dvr-pass');
    expect(box.needsRotation(legacy)).toBe(false);
    expect(box.needsRotation(legacy, SEALED.recorderPassword)).toBe(true);
    const bound = box.reencrypt(legacy, SEALED.recorderPassword);
    expect(box.needsRotation(bound, SEALED.recorderPassword)).toBe(false);
    expect(() => box.decrypt(bound, SEALED.panelIntegrationKey)).toThrow(expect.objectContaining({ code: 'E_SECRET_CORRUPT' }));
  });
});
