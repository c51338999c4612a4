import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SignJWT, createLocalJWKSet, decodeProtectedHeader, exportJWK, importPKCS8, jwtVerify, type JWTPayload, type CryptoKey,
} from 'jose';
import { StamError } from '../platform/index.ts';

export interface Claims extends JWTPayload { sub: string; role: string; name: string }

interface SigningKey { kid: string; key: CryptoKey; publicJwk: Record<string, unknown>; createdMs: number }

/** Keys kept on disk and accepted: the active one and the one before it (rotation overlap). */
const KEPT = 2;
const VERIFIED_MAX = 10_000;

function listKeyFiles(dir: string): { kid: string; path: string; mtimeMs: number }[] {
  return readdirSync(dir).filter((f) => f.endsWith('.pem'))
    .map((f) => ({ kid: f.replace(/\.pem$/, ''), path: join(dir, f), mtimeMs: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || b.kid.localeCompare(a.kid));
}

/**
 * Writes a new RS256 signing key into `dir` and removes keys older than the previous one. Every gateway
 * instance picks it up on its next reload (periodic, or at once when it sees a token with the new kid),
 * and keeps accepting the previous key, so nobody is logged out.
 */
export function rotateSigningKey(dir: string): { kid: string; removed: string[] } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kid = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, `${kid}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const stale = listKeyFiles(dir).filter((f) => f.kid !== kid).slice(KEPT - 1);
  for (const f of stale) rmSync(f.path, { force: true });
  return { kid, removed: stale.map((f) => f.kid) };
}

/**
 * RS256 key ring from PEM files in a directory (`<kid>.pem`, PKCS#8). The newest key signs; the newest
 * two are published (JWKS) and accepted. Tokens must carry a `kid` and `alg: RS256`; issuer and audience
 * are checked. An unknown kid triggers one reload (at most every `minReloadMs`) before it is refused.
 */
export class KeyRing {
  private keys: SigningKey[] = [];
  private jwks: ReturnType<typeof createLocalJWKSet> = createLocalJWKSet({ keys: [] });
  private lastReloadMs = 0;
  private timer: NodeJS.Timeout | undefined;
  /**
   * Tokens already verified, by their exact bytes (an RSA verification costs far more than the request it
   * guards). Only a byte-identical copy of a token that passed every check hits; expiry is re-checked on
   * each hit; a key reload empties it, so a retired key's tokens are verified (and refused) again.
   */
  private verified = new Map<string, { claims: Claims; expMs: number }>();

  private constructor(
    private readonly dir: string, private readonly issuer: string, private readonly audience: string,
    private readonly ttlS: number, private readonly minReloadMs: number,
  ) {}

  static async open(opts: { dir: string; issuer: string; audience: string; ttlS: number; reloadEveryS?: number; minReloadMs?: number }): Promise<KeyRing> {
    const ring = new KeyRing(opts.dir, opts.issuer, opts.audience, opts.ttlS, opts.minReloadMs ?? 5_000);
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    if (listKeyFiles(opts.dir).length === 0) rotateSigningKey(opts.dir);
    await ring.reload();
    if (opts.reloadEveryS) {
      ring.timer = setInterval(() => void ring.reload().catch(() => undefined), opts.reloadEveryS * 1000);
      ring.timer.unref();
    }
    return ring;
  }

  close(): void {
    clearInterval(this.timer);
  }

  get activeKid(): string | undefined {
    return this.keys[0]?.kid;
  }

  async reload(): Promise<void> {
    this.lastReloadMs = Date.now();
    const loaded: SigningKey[] = [];
    for (const f of listKeyFiles(this.dir).slice(0, KEPT)) {
      const key = await importPKCS8(readFileSync(f.path, 'utf8'), 'RS256', { extractable: true });
      const jwk = await exportJWK(key);
      const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: f.kid, alg: 'RS256', use: 'sig' };
      loaded.push({ kid: f.kid, key, publicJwk, createdMs: f.mtimeMs });
    }
    if (loaded.length === 0) throw new Error(`no signing key in ${this.dir}`);
    if (loaded.map((k) => k.kid).join() !== this.keys.map((k) => k.kid).join()) this.verified.clear();
    this.keys = loaded;
    this.jwks = createLocalJWKSet(this.publicJwks());
  }

  publicJwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async sign(claims: { sub: string; role: string; name: string }): Promise<{ token: string; expiresIn: number }> {
    const active = this.keys[0];
    if (!active) throw new Error('no signing key');
    const token = await new SignJWT({ role: claims.role, name: claims.name })
      .setProtectedHeader({ alg: 'RS256', kid: active.kid, typ: 'JWT' })
      .setSubject(claims.sub).setIssuer(this.issuer).setAudience(this.audience)
      .setIssuedAt().setExpirationTime(`${this.ttlS}s`).setJti(randomUUID())
      .sign(active.key);
    return { token, expiresIn: this.ttlS };
  }

  async verify(token: string): Promise<Claims> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.expMs > Date.now()) return hit.claims;
      this.verified.delete(token);
    }
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'RS256') throw new Error(`alg ${String(header.alg)} refused`);
      if (typeof header.kid !== 'string' || header.kid === '') throw new Error('token has no kid');
      if (!this.keys.some((k) => k.kid === header.kid) && Date.now() - this.lastReloadMs >= this.minReloadMs) await this.reload();
      const { payload } = await jwtVerify(token, this.jwks, { algorithms: ['RS256'], issuer: this.issuer, audience: this.audience, requiredClaims: ['exp', 'sub'] });
      if (typeof payload.sub !== 'string' || typeof payload.role !== 'string' || typeof payload.name !== 'string') throw new Error('token lacks sub/role/name');
      if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims: payload as Claims, expMs: payload.exp! * 1000 });
      return payload as Claims;
    } catch (err) {
      throw new StamError('E_AUTH_TOKEN', 'invalid or expired token', { cause: err });
    }
  }
}
