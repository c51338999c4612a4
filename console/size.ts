import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget of the issue: what the console adds to the first load, gzipped. */
export const FIRST_LOAD_BUDGET_BYTES = 300 * 1024;

const DIST = fileURLToPath(new URL('./dist/', import.meta.url));

/**
 * What a browser fetches to show the console the first time: the page, every script, stylesheet and
 * preload it names, the manifest and the icon, each gzipped at level 9 (as a compressing proxy would).
 */
export function firstLoad(dist = DIST): { files: { file: string; raw: number; gzip: number }[]; raw: number; gzip: number } {
  if (!existsSync(join(dist, 'index.html'))) throw new Error('the console is not built: npm run build:console');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/([^"]+)"/g)].map((m) => m[1]!);
  const files = ['index.html', ...new Set(refs)].filter((f) => existsSync(join(dist, f))).map((file) => {
    const body = readFileSync(join(dist, file));
    return { file, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
  return { files, raw: files.reduce((s, f) => s + f.raw, 0), gzip: files.reduce((s, f) => s + f.gzip, 0) };
}

export function report(): string {
  const r = firstLoad();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  return [
    ...r.files.map((f) => `  ${f.file.padEnd(36)} ${kb(f.raw).padStart(10)} ${kb(f.gzip).padStart(10)} gzip`),
    `console first load: ${kb(r.raw)} raw, ${kb(r.gzip)} gzipped (budget ${kb(FIRST_LOAD_BUDGET_BYTES)}): ${r.gzip <= FIRST_LOAD_BUDGET_BYTES ? 'within' : 'OVER'}`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${report()}\n`);
  if (firstLoad().gzip > FIRST_LOAD_BUDGET_BYTES) process.exitCode = 1;
}
