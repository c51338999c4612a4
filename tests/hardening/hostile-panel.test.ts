import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createPanel } from '../helpers/system.ts';

const LINES_PER_MINUTE = 10;

/** A "panel" that answers every connection with endless garbage: random bytes, frame starts, frames that never end. */
function hostilePanel(): Promise<{ port: number; sent: () => number; close(): Promise<void> }> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    const spew = () => {
      if (s.destroyed) return;
      // Unterminated frames (FE FE then 2 KB with no FE 0D), stray bytes, and a few byte-stuffing traps.
      const chunk = Buffer.concat([Buffer.from([0xfe, 0xfe]), randomBytes(2048).map((b) => (b === 0xfe ? 0x01 : b)), randomBytes(512), Buffer.from([0xfe, 0xf0, 0xfe, 0xfe, 0xfe])]);
      sent += chunk.length;
      if (s.write(chunk)) setImmediate(spew); else s.once('drain', spew);
    };
    spew();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as { port: number }).port,
    sent: () => sent,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  })));
}

/** Black-box: a panel that sends endless garbage cannot make the driver write more than a bounded number of lines. */
describe('hardening: a hostile panel', () => {
  let env: TestEnv;
  let panel: Awaited<ReturnType<typeof hostilePanel>>;
  let driver: RoleProcess;
  let panelId: number;

  beforeAll(async () => {
    env = await createTestEnv({ SATEL_LOG_LINES_PER_MINUTE: String(LINES_PER_MINUTE), SATEL_ANSWER_TIMEOUT_MS: '500', FEATURE_ARM_DISARM_ENABLED: 'false', FEATURE_HA_ENABLED: 'false' });
    panel = await hostilePanel();
    panelId = (await createPanel(env.pool, panel.port, 'HOSTILE')).panelId;
    driver = startRole('satel-ingest', env.vars);
    await driver.waitForLog(msgIs('satel driver polling'));
  });

  afterAll(async () => {
    await driver?.stop();
    await panel?.close();
    await env?.cleanup();
  });

  it('megabytes of garbage and unterminated frames: each kind of line at most the budget per minute, the rest counted in metrics', async () => {
    await new Promise((r) => setTimeout(r, 8_000));
    const about = driver.lines.filter((l) => l.panel === panelId);
    const byMsg = new Map<string, number>();
    for (const l of about) byMsg.set(String(l.msg), (byMsg.get(String(l.msg)) ?? 0) + 1);
    expect(panel.sent()).toBeGreaterThan(1_000_000);
    expect(byMsg.get('frame rejected') ?? 0).toBeGreaterThan(0);
    for (const [msg, n] of byMsg) expect(n, `${msg}: ${n} lines`).toBeLessThanOrEqual(LINES_PER_MINUTE);
    const ops = driver.lines.find((l) => l.msg === 'ops endpoints listening (/healthz /readyz /metrics)')!.port as number;
    const text = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    const held = Number(/stam_satel_log_lines_held_total\{kind="frame rejected"\} (\d+)/.exec(text)?.[1] ?? 0);
    const rejected = [...text.matchAll(/stam_satel_frame_errors_total\{code="[A-Z_]+"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    expect(held).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(held);
    // The driver is still serving its ops endpoints and still trying the panel: it did not die of the garbage.
    expect((await fetch(`http://127.0.0.1:${ops}/healthz`)).status).toBe(200);
  });
});
