import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StamError } from './errors.ts';

/**
 * Secrets at rest (panel integration keys and user codes, recorder passwords): AES-256-GCM with a key
 * ring. Every ciphertext names the key that sealed it, so keys rotate without a flag day: put a new key
 * first in the ring (it seals from then on), re-encrypt the stored values (`stam secrets rotate`), then drop
 * the old key.
 *
 * Ring syntax (env `SECRETS_KEYS` or the development key file): `kid=base64key[,kid=base64key…]`, first
 * key active, each key 32 random bytes. Key material never appears in an error, a log line or a response.
 *
 * Ciphertext layout: 0x01 | kid length | kid (ASCII) | 12-byte IV | 16-byte GCM tag | ciphertext; the
 * version byte and kid are authenticated as additional data, so a value cannot be re-labelled.
 */

const VERSION = 0x01;
const KID = /^[A-Za-z0-9._-]{1,64}$/;

export interface SecretKeyRing { activeKid: string; keys: ReadonlyMap<string, Buffer> }

export interface SecretBox {
  readonly activeKid: string;
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
  keyIdOf(sealed: Buffer): string;
  /** True when the value was sealed with a key other than the active one. */
  needsRotation(sealed: Buffer): boolean;
  reencrypt(sealed: Buffer): Buffer;
}

/** Parses `kid=base64[,kid=base64…]` (commas or newlines); names only the position of a bad entry, never its value. */
export function parseSecretKeys(spec: string): SecretKeyRing {
  const entries = spec.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0 && !s.startsWith('#'));
  if (entries.length === 0) throw new StamError('E_SECRET_KEY', 'the secrets key ring is empty');
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const kid = eq > 0 ? entry.slice(0, eq) : '';
    if (!KID.test(kid)) throw new StamError('E_SECRET_KEY', `secrets key ring entry ${i + 1}: expected kid=base64key with kid [A-Za-z0-9._-]{1,64}`);
    const key = Buffer.from(entry.slice(eq + 1), 'base64');
    if (key.length !== 32) throw new StamError('E_SECRET_KEY', `secrets key ring entry ${i + 1} (${kid}): the key must be 32 bytes, base64-encoded`);
    if (keys.has(kid)) throw new StamError('E_SECRET_KEY', `secrets key ring: key id ${kid} appears twice`);
    keys.set(kid, key);
  });
  return { activeKid: [...keys.keys()][0]!, keys };
}

/** A fresh ring entry `kid=base64`, the kid dated so rings read in order. */
export function generateSecretKey(kid = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`): string {
  return `${kid}=${randomBytes(32).toString('base64')}`;
}

function header(kid: string): Buffer {
  const k = Buffer.from(kid, 'ascii');
  return Buffer.concat([Buffer.from([VERSION, k.length]), k]);
}

function parseHeader(sealed: Buffer): { kid: string; body: Buffer; aad: Buffer } {
  if (!Buffer.isBuffer(sealed) || sealed.length < 2 || sealed[0] !== VERSION) throw new StamError('E_SECRET_CORRUPT', 'not a sealed secret (unknown format)');
  const n = sealed[1]!;
  const end = 2 + n;
  if (n === 0 || sealed.length < end + 12 + 16) throw new StamError('E_SECRET_CORRUPT', 'sealed secret is truncated');
  return { kid: sealed.subarray(2, end).toString('ascii'), body: sealed.subarray(end), aad: sealed.subarray(0, end) };
}

export function createSecretBox(ring: SecretKeyRing): SecretBox {
  const active = ring.keys.get(ring.activeKid);
  if (!active) throw new StamError('E_SECRET_KEY', 'the active secrets key is not in the ring');
  const box: SecretBox = {
    activeKid: ring.activeKid,
    encrypt(plain) {
      const aad = header(ring.activeKid);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', active, iv);
      cipher.setAAD(aad);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([aad, iv, cipher.getAuthTag(), ct]);
    },
    decrypt(sealed) {
      const { kid, body, aad } = parseHeader(sealed);
      const key = ring.keys.get(kid);
      if (!key) throw new StamError('E_SECRET_KEY', `secret sealed with key ${kid}, which is not in the ring`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
        decipher.setAAD(aad);
        decipher.setAuthTag(body.subarray(12, 28));
        return Buffer.concat([decipher.update(body.subarray(28)), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new StamError('E_SECRET_CORRUPT', `secret sealed with key ${kid} failed authentication`, { cause: err });
      }
    },
    keyIdOf: (sealed) => parseHeader(sealed).kid,
    needsRotation: (sealed) => parseHeader(sealed).kid !== ring.activeKid,
    reencrypt: (sealed) => box.encrypt(box.decrypt(sealed)),
  };
  return box;
}

export interface SecretsSource {
  /** `SECRETS_KEYS`; wins over the file. */
  keys?: string | undefined;
  /** Development key file, created with a fresh key when missing and `generate` is true. */
  keyFile: string;
  generate: boolean;
}

/** Loads the ring from the environment value or the key file (created in development). */
export function loadSecretKeyRing(src: SecretsSource): SecretKeyRing {
  if (src.keys !== undefined && src.keys.trim() !== '') return parseSecretKeys(src.keys);
  if (!existsSync(src.keyFile)) {
    if (!src.generate) throw new StamError('E_SECRET_KEY', 'no secrets key ring: set SECRETS_KEYS (see `stam secrets generate-key`)');
    mkdirSync(dirname(src.keyFile), { recursive: true, mode: 0o700 });
    writeFileSync(src.keyFile, `${generateSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
  }
  return parseSecretKeys(readFileSync(src.keyFile, 'utf8'));
}

/** Puts a new active key in front of the development key file (production rings live in SECRETS_KEYS). */
export function addKeyToFile(keyFile: string): string {
  const line = generateSecretKey();
  const old = existsSync(keyFile) ? readFileSync(keyFile, 'utf8') : '';
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, `${line}\n${old}`, { mode: 0o600 });
  return line.slice(0, line.indexOf('='));
}

let current: SecretBox | undefined;

function defaultSource(env: NodeJS.ProcessEnv): SecretsSource {
  return { keys: env.SECRETS_KEYS, keyFile: env.SECRETS_KEY_FILE ?? '.data/secrets.keys', generate: env.NODE_ENV !== 'production' };
}

/** Sets the process-wide ring (roles call this at start with their validated config). */
export function configureSecrets(src: SecretsSource | SecretKeyRing): SecretBox {
  current = createSecretBox('activeKid' in src ? src : loadSecretKeyRing(src));
  return current;
}

function box(): SecretBox {
  current ??= createSecretBox(loadSecretKeyRing(defaultSource(process.env)));
  return current;
}

/** Seals a secret with the active key of the process-wide ring. */
export const encryptSecret = (plain: string): Buffer => box().encrypt(plain);
/** Opens a sealed secret with whichever key of the ring sealed it. */
export const decryptSecret = (sealed: Buffer): string => box().decrypt(sealed);
export const secretNeedsRotation = (sealed: Buffer): boolean => box().needsRotation(sealed);
export const reencryptSecret = (sealed: Buffer): Buffer => box().reencrypt(sealed);
