/**
 * The modem's side of a real pty: Debian's `socat` creates the pty (its link is the device sms-ingest
 * opens) and relays it to this process's pipes, byte for byte. `ignoreeof` keeps the pty when the driver
 * closes it (a restarted driver opens it again). Vanishing (a USB modem unplugged) is killing socat: the
 * link goes, the driver's next write fails with EIO; reappearing is a new socat on the same link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface PtyLink {
  readonly up: boolean;
  write(data: string): void;
  open(): Promise<void>;
  close(): Promise<void>;
}

export function createPtyLink(path: string, onData: (chunk: string) => void, onError: (err: Error) => void): PtyLink {
  let proc: ChildProcess | undefined;

  async function open(): Promise<void> {
    if (proc) return;
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true }); // a link left by a killed socat
    const p = spawn('socat', [`pty,raw,echo=0,link=${path},ignoreeof`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc = p;
    p.stdout.setEncoding('latin1');
    p.stdout.on('data', (d: string) => onData(d));
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.stdin.on('error', () => undefined); // writes racing a kill
    p.once('error', (err) => onError(new Error(`socat could not start (is it installed?): ${err.message}`)));
    p.once('exit', (code, signal) => {
      if (proc === p) { proc = undefined; onError(new Error(`socat exited (${code ?? signal}) ${stderr.trim().slice(-300)}`)); }
    });
    for (let i = 0; i < 250 && !existsSync(path); i++) {
      if (proc !== p) throw new Error(`socat exited before creating ${path}: ${stderr.trim().slice(-300)}`);
      await delay(20);
    }
    if (!existsSync(path)) throw new Error(`socat did not create ${path} within 5 s`);
  }

  return {
    get up() { return proc !== undefined; },
    write(data: string) { proc?.stdin?.write(Buffer.from(data, 'latin1')); },
    open,
    async close() {
      const p = proc;
      if (!p) return;
      proc = undefined;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, delay(2000)]);
      rmSync(path, { force: true });
    },
  };
}
