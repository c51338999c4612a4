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
 * Ciphertext layout: version | kid length | kid (ASCII) | 12-byte IV | 16-byte GCM tag | ciphertext; the
 * version byte and kid are authenticated as additional data, so a value cannot be re-labelled. Version 2
 * also authenticates the place the value belongs to (its context: `table.column`, SEALED): a ciphertext
 * copied into another column does not open there. Version 1 (no context) still opens, and `stam secrets
 * rotate` re-seals it bound.
 */

const UNBOUND = 0x01;
const BOUND = 0x02;
const KID = /^[A-Za-z0-9._-]{1,64}$/;

export interface SecretKeyRing { activeKid: string; keys: ReadonlyMap<string, Buffer> }

/** Where each sealed secret lives: the context it is bound to. */
export const SEALED = {
  panelIntegrationKey: 'panels.integration_key_enc',
  panelUserCode: 'panels.user_code_enc',
  recorderPassword: 'recorders.password_enc',
} as const;
export type SecretContext = (typeof SEALED)[keyof typeof SEALED];

export interface SecretBox {
  readonly activeKid: string;
  /** Seals `plain` bound to `context` (unbound without one: the old format, kept readable). */
  encrypt(plain: string, context?: SecretContext): Buffer;
  /** Opens a sealed value; a bound one only in the context it was sealed for. */
  decrypt(sealed: Buffer, context?: SecretContext): string;
  keyIdOf(sealed: Buffer): string;
  /** True when the value was sealed with a key other than the active one, or (given a context) is not bound yet. */
  needsRotation(sealed: Buffer, context?: SecretContext): boolean;
  reencrypt(sealed: Buffer, context?: SecretContext): Buffer;
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

function header(kid: string, version: number): Buffer {
  const k = Buffer.from(kid, 'ascii');
  return Buffer.concat([Buffer.from([version, k.length]), k]);
}

function parseHeader(sealed: Buffer): { version: number; kid: string; body: Buffer; head: Buffer } {
  if (!Buffer.isBuffer(sealed) || sealed.length < 2 || (sealed[0] !== UNBOUND && sealed[0] !== BOUND)) throw new StamError('E_SECRET_CORRUPT', 'not a sealed secret (unknown format)');
  const n = sealed[1]!;
  const end = 2 + n;
  if (n === 0 || sealed.length < end + 12 + 16) throw new StamError('E_SECRET_CORRUPT', 'sealed secret is truncated');
  return { version: sealed[0], kid: sealed.subarray(2, end).toString('ascii'), body: sealed.subarray(end), head: sealed.subarray(0, end) };
}

/** What GCM authenticates besides the ciphertext: the header, and for a bound value its context. */
function additionalData(head: Buffer, version: number, context: string | undefined): Buffer {
  if (version === UNBOUND) return head;
  if (context === undefined) throw new StamError('E_SECRET_CORRUPT', 'this secret is bound to where it is stored: open it with its context');
  return Buffer.concat([head, Buffer.from(`\u0000${context}`, 'utf8')]);
}

export function createSecretBox(ring: SecretKeyRing): SecretBox {
  const active = ring.keys.get(ring.activeKid);
  if (!active) throw new StamError('E_SECRET_KEY', 'the active secrets key is not in the ring');
  const box: SecretBox = {
    activeKid: ring.activeKid,
    encrypt(plain, context) {
      const version = context === undefined ? UNBOUND : BOUND;
      const head = header(ring.activeKid, version);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', active, iv);
      cipher.setAAD(additionalData(head, version, context));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([head, iv, cipher.getAuthTag(), ct]);
    },
    decrypt(sealed, context) {
      const { version, kid, body, head } = parseHeader(sealed);
      const key = ring.keys.get(kid);
      if (!key) throw new StamError('E_SECRET_KEY', `secret sealed with key ${kid}, which is not in the ring`);
      const aad = additionalData(head, version, context);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
        decipher.setAAD(aad);
        decipher.setAuthTag(body.subarray(12, 28));
        return Buffer.concat([decipher.update(body.subarray(28)), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new StamError('E_SECRET_CORRUPT', `secret sealed with key ${kid} failed authentication${version === BOUND ? ' (or belongs elsewhere)' : ''}`, { cause: err });
      }
    },
    keyIdOf: (sealed) => parseHeader(sealed).kid,
    needsRotation: (sealed, context) => {
      const h = parseHeader(sealed);
      return h.kid !== ring.activeKid || (context !== undefined && h.version === UNBOUND);
    },
    reencrypt: (sealed, context) => box.encrypt(box.decrypt(sealed, context), context),
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

/** Seals a secret with the active key of the process-wide ring, bound to where it is stored. */
export const encryptSecret = (plain: string, context?: SecretContext): Buffer => box().encrypt(plain, context);
/** Opens a sealed secret with whichever key of the ring sealed it, in the place it belongs to. */
export const decryptSecret = (sealed: Buffer, context?: SecretContext): string => box().decrypt(sealed, context);
export const secretNeedsRotation = (sealed: Buffer, context?: SecretContext): boolean => box().needsRotation(sealed, context);
export const reencryptSecret = (sealed: Buffer, context?: SecretContext): Buffer => box().reencrypt(sealed, context);
