import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../../simulator/index.ts';
import { Cmd, decodeIntegraVersion, message } from '../protocol/index.ts';
import { PanelConnection, type FrameError } from './connection.ts';

const KEY = 'ABCDEFGHIJKL';
const sims: Simulator[] = [];
const conns: PanelConnection[] = [];
const sockets: Socket[] = [];

async function simulator(opts: Partial<Parameters<typeof createSimulator>[0]> = {}): Promise<Simulator> {
  const sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, ...opts });
  await sim.start();
  sims.push(sim);
  return sim;
}

async function open(port: number, opts: { integrationKey?: string; answerTimeoutMs?: number; keepAliveMs?: number } = {}): Promise<PanelConnection> {
  const c = new PanelConnection({ host: '127.0.0.1', port, answerTimeoutMs: 400, ...opts });
  conns.push(c);
  await c.connect();
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const identify = (c: PanelConnection) => c.request(message(Cmd.integraVersion));

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

describe('PanelConnection over TCP to a simulated ETHM-1', () => {
  it('answers one request at a time, in order, when several are issued at once', async () => {
    const sim = await simulator();
    const c = await open(sim.ports[0]!);
    const answers = await Promise.all([identify(c), c.request(message(Cmd.moduleVersion)), c.request(message(Cmd.zonesViolation))]);
    expect(answers.map((a) => a.cmd)).toEqual([Cmd.integraVersion, Cmd.moduleVersion, Cmd.zonesViolation]);
    expect(decodeIntegraVersion(answers[0]).type).toBe(3);
    expect(c.framesOut).toBe(3);
    expect(c.framesIn).toBe(3);
  });

  it('fails a request whose answer has a wrong CRC at once (not after the timeout) and keeps the link', async () => {
    const sim = await simulator();
    const c = await open(sim.ports[0]!, { answerTimeoutMs: 5_000 });
    const errors: FrameError[] = [];
    c.on('frameError', (e: FrameError) => errors.push(e));
    sim.perform(1, 'link-corrupt', { count: 1 });
    const t0 = Date.now();
    await expect(identify(c)).rejects.toMatchObject({ code: 'E_SATEL_CRC' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(errors.map((e) => e.code)).toEqual(['E_SATEL_CRC']);
    expect((await identify(c)).cmd).toBe(Cmd.integraVersion);
    expect(c.closed).toBe(false);
  });

  it('turns a Busy! answer into E_SATEL_BUSY on a link that stays usable', async () => {
    const sim = await simulator();
    const c = await open(sim.ports[0]!);
    expect((await identify(c)).cmd).toBe(Cmd.integraVersion);
    sim.perform(1, 'link-busy', { count: 1 });
    await expect(c.request(message(Cmd.zonesViolation))).rejects.toMatchObject({ code: 'E_SATEL_BUSY' });
    expect((await c.request(message(Cmd.zonesViolation))).cmd).toBe(Cmd.zonesViolation);
  });

  it('a second client is refused with Busy! and says that another integration client holds the module', async () => {
    const sim = await simulator();
    const first = await open(sim.ports[0]!);
    await identify(first);
    const second = new PanelConnection({ host: '127.0.0.1', port: sim.ports[0]!, answerTimeoutMs: 400 });
    conns.push(second);
    const closed = new Promise<string>((resolve) => second.once('close', resolve));
    await second.connect();
    expect(await closed).toMatch(/refused the link with Busy!.*another integration client/);
    await expect(identify(second)).rejects.toMatchObject({ code: 'E_SATEL_LINK' });
    expect((await identify(first)).cmd).toBe(Cmd.integraVersion);
  });

  it('times out a silent module', async () => {
    const sim = await simulator();
    const c = await open(sim.ports[0]!, { answerTimeoutMs: 300 });
    sim.perform(1, 'link-hang');
    await expect(identify(c)).rejects.toMatchObject({ code: 'E_SATEL_TIMEOUT', message: expect.stringMatching(/no answer to integraVersion \(0x7E\) within 300 ms/) });
  });

  it('is dropped by the module after its idle limit, unless the keep-alive speaks first', async () => {
    const sim = await simulator({ idleTimeoutMs: 600 });
    const idle = await open(sim.ports[0]!);
    const closed = new Promise<string>((resolve) => idle.once('close', resolve));
    expect(await closed).toBe('connection closed by the module');
    const kept = await open(sim.ports[0]!, { keepAliveMs: 200 });
    await sleep(1_500);
    expect(kept.closed).toBe(false);
    expect(kept.framesOut).toBeGreaterThanOrEqual(5);
    expect((await identify(kept)).cmd).toBe(Cmd.integraVersion);
  });

  it('speaks ETHM-1 Plus integration encryption when given the key', async () => {
    const sim = await simulator({ encryptionKey: KEY });
    const c = await open(sim.ports[0]!, { integrationKey: KEY });
    expect(c.encrypted).toBe(true);
    sim.perform(1, 'violate', { zone: 5 });
    const a = await c.request(message(Cmd.zonesViolation));
    expect(a.data[0]).toBe(0x10);
  });

  it('gets no answer at all when only one side encrypts, or the keys differ', async () => {
    const encrypted = await simulator({ encryptionKey: KEY });
    const plain = await simulator();
    for (const [port, key] of [[encrypted.ports[0]!, undefined], [plain.ports[0]!, KEY], [encrypted.ports[0]!, 'ZYXWVUTSRQPO']] as const) {
      const c = await open(port, { answerTimeoutMs: 300, ...(key ? { integrationKey: key } : {}) });
      await expect(identify(c)).rejects.toMatchObject({ code: 'E_SATEL_TIMEOUT' });
      c.close();
      await sleep(50);
    }
  });

  it('recognises the plain-text Busy! refusal on an encrypted link', async () => {
    const sim = await simulator({ encryptionKey: KEY });
    const holder = connect(sim.ports[0]!, '127.0.0.1');
    sockets.push(holder);
    await new Promise((r) => holder.once('connect', r));
    await sleep(50);
    const c = new PanelConnection({ host: '127.0.0.1', port: sim.ports[0]!, integrationKey: KEY });
    conns.push(c);
    const closed = new Promise<string>((resolve) => c.once('close', resolve));
    await c.connect();
    expect(await closed).toMatch(/Busy!/);
  });
});
