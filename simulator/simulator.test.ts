import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeArm } from '../ingest/satel/protocol/index.ts';
import { createSimulator } from './index.ts';
import { connectClient } from './test-client.ts';

/** A base port with `count` free ports after it (best effort: checks each one, then releases them). */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers = [];
    try {
      for (let i = 0; i < count; i++) {
        const s = createServer();
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + i, '127.0.0.1', resolve);
        });
        servers.push(s);
      }
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error('no free port range');
}

describe('simulator', () => {
  it('puts panel i on basePort + i - 1', async () => {
    const base = await freeRange(3);
    const sim = createSimulator({ panels: 3, basePort: base, controlPort: 0 });
    await sim.start();
    try {
      expect(sim.ports).toEqual([base, base + 1, base + 2]);
      const c = await connectClient(base + 2);
      expect((await c.request(0x7e)).cmd).toBe(0x7e);
      c.close();
    } finally {
      await sim.stop();
    }
  });

  it('rejects invalid options with the option named', () => {
    expect(() => createSimulator({ panels: 0, basePort: 0 })).toThrow(/panels: Number must be greater than or equal to 1/);
    expect(() => createSimulator({ panels: 1, module: 'ethm1', encryptionKey: 'k' })).toThrow(/encryptionKey: integration encryption needs module ethm1plus/);
    expect(() => createSimulator({ panels: 10, basePort: 65_530 })).toThrow(/basePort: ports 65530..65539 exceed 65535/);
    expect(() => createSimulator({ panels: 1, userCode: '12a4' })).toThrow(/userCode/);
  });

  it('accepts the CLI strings as they come (numbers coerced) and fills the defaults', () => {
    const sim = createSimulator({ panels: '2' as unknown as number, basePort: '0' as unknown as number, seed: '7' as unknown as number });
    expect(sim.settings).toMatchObject({ panels: 2, basePort: 0, seed: 7, model: 'integra128', module: 'ethm1plus', userCode: '1234', controlPort: 7080, idleTimeoutMs: 25_000 });
  });

  it('encrypts every panel when given an integration key, with the configured user code', async () => {
    const sim = createSimulator({ panels: 2, basePort: 0, controlPort: 0, encryptionKey: 'abcdefghijkl', userCode: '4321' });
    await sim.start();
    try {
      const c = await connectClient(sim.ports[1]!, { key: 'abcdefghijkl' });
      const wrong = encodeArm(0, { code: '1234' }, [1]);
      expect([...(await c.request(wrong.cmd, wrong.data)).data]).toEqual([0x01]);
      const right = encodeArm(0, { code: '4321' }, [1]);
      expect([...(await c.request(right.cmd, right.data)).data]).toEqual([0x00]);
      expect(sim.panel(2).store.get(0x0a, 1)).toBe(true);
      c.close();
    } finally {
      await sim.stop();
    }
  });

  it('completes exit times on its own tick', async () => {
    const sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, exitDelayMs: 150 });
    await sim.start();
    try {
      expect(sim.perform(1, 'arm', { partition: 1 }).result).toBe(0);
      expect(sim.panel(1).store.get(0x10, 1)).toBe(true); // exit time under 10 s
      await new Promise((r) => setTimeout(r, 400));
      expect([sim.panel(1).store.get(0x10, 1), sim.panel(1).store.get(0x0a, 1)]).toEqual([false, true]);
    } finally {
      await sim.stop();
    }
  });

  it('starts 500 panel listeners quickly, and every one answers', async () => {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const sim = createSimulator({ panels: 500, basePort: 0, controlPort: 0 });
    await sim.start();
    const startMs = performance.now() - t0;
    const rssMb = (process.memoryUsage().rss - rss0) / 1024 / 1024;
    try {
      expect(new Set(sim.ports).size).toBe(500);
      const clients = await Promise.all(sim.ports.map((p) => connectClient(p)));
      const answers = await Promise.all(clients.map((c) => c.request(0x7e)));
      expect(answers.every((a) => a.cmd === 0x7e && a.data[0] === 3)).toBe(true);
      for (const c of clients) c.close();
      console.info(`500 panels: listening in ${startMs.toFixed(0)} ms, RSS +${rssMb.toFixed(1)} MB (process RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB)`);
      expect(startMs).toBeLessThan(5_000);
    } finally {
      await sim.stop();
    }
  });
});
