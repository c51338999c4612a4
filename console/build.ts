import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the operator console (Vite) when its build is missing or stale: `npm ci` (prepare), `npm start`
 * (`stam all`) and `npm test` (global setup) call it, so the README's two commands work on a fresh machine
 * and a changed source is never served from an old build. Stale = the hash of the sources differs from
 * the one recorded in dist/ at the last build.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url));
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.source-hash');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'];

function walk(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) for (const f of readdirSync(path).sort()) walk(join(path, f), out);
  else out.push(path);
}

export function sourceHash(): string {
  const files: string[] = [];
  for (const s of SOURCES) walk(join(ROOT, s), files);
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(ROOT.length)).update('\0').update(readFileSync(f));
  return h.digest('hex');
}

export function isStale(): boolean {
  return !existsSync(join(DIST, 'index.html')) || !existsSync(STAMP) || readFileSync(STAMP, 'utf8').trim() !== sourceHash();
}

/** Where Vite is installed, or null (a production install without dev dependencies). */
function viteBin(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('vite/package.json');
    return join(pkg, '..', 'bin', 'vite.js');
  } catch { return null; }
}

export type BuildOutcome = 'fresh' | 'built' | 'no-vite';

/** Builds unless the build is current; `force` builds anyway. Throws when the build fails. */
export function ensureConsoleBuilt(opts: { force?: boolean; log?: (line: string) => void } = {}): BuildOutcome {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (!opts.force && !isStale()) return 'fresh';
  const vite = viteBin();
  if (!vite) {
    log(existsSync(join(DIST, 'index.html')) ? 'console: sources changed but Vite is not installed; serving the existing build' : 'console: not built and Vite is not installed (npm ci installs it)');
    return 'no-vite';
  }
  const hash = sourceHash();
  log('console: building (vite build)…');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'vite.config.ts'), '--logLevel', 'warn'], {
    stdio: 'inherit', cwd: ROOT,
    // Always the production build of React, also when called from the test runner (which sets NODE_ENV=test).
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`console build failed (exit ${r.status ?? r.signal})`);
  writeFileSync(STAMP, `${hash}\n`);
  return 'built';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = ensureConsoleBuilt({ force: process.argv.includes('--force') });
  process.stderr.write(`console: ${out === 'fresh' ? 'build is current' : out === 'built' ? `built into ${DIST}` : 'skipped'}\n`);
}
