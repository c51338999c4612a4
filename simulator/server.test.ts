import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeMonitorRequest } from '../ingest/satel/protocol/index.ts';
import { createPanel, type Panel } from './panel.ts';
import { createPanelServer, type PanelServer, type PanelServerOptions } from './server.ts';
import { connectClient, type TestClient } from './test-client.ts';

const started: PanelServer[] = [];
const clients: TestClient[] = [];

async function serve(opts: Partial<PanelServerOptions> & { panel?: Panel } = {}): Promise<{ server: PanelServer; panel: Panel }> {
  const panel = opts.panel ?? createPanel();
  const server = createPanelServer({ number: 1, port: 0, ...opts, panel });
  await server.start();
  started.push(server);
  return { server, panel };
}

async function client(port: number, key?: string): Promise<TestClient> {
  const c = await connectClient(port, key !== undefined ? { key } : {});
  clients.push(c);
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe('panel TCP server', () => {
  it('answers a request written one byte at a time, and two requests coalesced into one write', async () => {
    const { server, panel } = await serve();
    panel.violateZone(2);
    const c = await client(server.port);
    for (const b of encodeFrame(0x00)) {
      c.sendRaw(Uint8Array.of(b));
      await sleep(1);
    }
    const a = await c.next();
    expect(a).toMatchObject({ type: 'frame', cmd: 0x00 });
    expect(a.type === 'frame' && a.data[0]).toBe(0x02);
    c.sendRaw(Buffer.concat([encodeFrame(0x7e), encodeFrame(0x7c)]));
    expect(await c.next()).toMatchObject({ type: 'frame', cmd: 0x7e });
    expect(await c.next()).toMatchObject({ type: 'frame', cmd: 0x7c });
  });

  it('gives a second client Busy!\\r\\n and closes it, while the first keeps working', async () => {
    const { server } = await serve();
    const first = await client(server.port);
    expect((await first.request(0x7e)).cmd).toBe(0x7e);
    const second = await client(server.port);
    expect(await second.next()).toEqual({ type: 'busy' });
    await second.closed;
    expect((await first.request(0x7c)).cmd).toBe(0x7c);
    expect(server.stats.refused).toBe(1);
  });

  it('lets a second client take over when configured like an ETHM-1 Plus that kicks the first off', async () => {
    const { server } = await serve({ secondClient: 'takeover' });
    const first = await client(server.port);
    const second = await client(server.port);
    await first.closed;
    expect((await second.request(0x7e)).cmd).toBe(0x7e);
  });

  it('drops a client that stays silent for the idle timeout, but not one that keeps talking', async () => {
    const { server } = await serve({ idleTimeoutMs: 150 });
    const silent = await client(server.port);
    const t0 = Date.now();
    await silent.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);

    const talker = await client(server.port);
    for (let i = 0; i < 5; i++) {
      await sleep(60);
      expect((await talker.request(0x7f)).cmd).toBe(0x7f);
    }
    expect(talker.socket.destroyed).toBe(false);
  });

  it('ignores corrupt frames and stray bytes, and answers the next good frame', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    const bad = Buffer.from(encodeFrame(0x7e));
    bad[bad.length - 3]! ^= 0x01; // CRC low byte
    c.sendRaw(Buffer.concat([bad, Buffer.from('garbage'), encodeFrame(0x7c)]));
    expect(await c.next()).toMatchObject({ type: 'frame', cmd: 0x7c });
    expect(c.pending()).toBe(0);
    expect(server.stats.badFrames).toBeGreaterThanOrEqual(1);
  });

  it('in monitoring mode (ETHM-1 Plus) pushes changed state frames without being asked', async () => {
    const { server, panel } = await serve({ panel: createPanel({ module: 'ethm1plus' }) });
    const c = await client(server.port);
    const ack = await c.request(0x7f, encodeMonitorRequest([0x00, 0x0a]).data);
    expect([ack.cmd, ...ack.data]).toEqual([0xef, 0xff]);
    expect(server.monitoring).toBe(true);
    panel.violateZone(9);
    const pushed = await c.next();
    expect(pushed).toMatchObject({ type: 'frame', cmd: 0x00 });
    expect(pushed.type === 'frame' && [pushed.data.length, pushed.data[1]]).toEqual([32, 0x01]);
    panel.setOutputs([1], true); // 0x17 is not monitored
    await sleep(30);
    expect(c.pending()).toBe(0);
  });

  it('on a plain ETHM-1 refuses monitoring mode with EF 08 and pushes nothing', async () => {
    const { server, panel } = await serve({ panel: createPanel({ module: 'ethm1' }) });
    const c = await client(server.port);
    const ack = await c.request(0x7f, encodeMonitorRequest([0x00]).data);
    expect([ack.cmd, ...ack.data]).toEqual([0xef, 0x08]);
    panel.violateZone(1);
    await sleep(30);
    expect(c.pending()).toBe(0);
  });

  it('speaks integration encryption with the right key and stays silent to a plaintext client', async () => {
    const key = 'secretkey123';
    const { server, panel } = await serve({ encryptionKey: key });
    panel.violateZone(3);
    const enc = await client(server.port, key);
    const a = await enc.request(0x00);
    expect([a.cmd, a.data[0]]).toEqual([0x00, 0x04]);
    expect((await enc.request(0x7e)).cmd).toBe(0x7e); // counters and ids keep working across PDUs
    enc.close();
    while (server.connected) await sleep(5); // until the server has seen the close

    const plain = await client(server.port);
    plain.send(0x7e);
    await expect(plain.next(200)).rejects.toThrow(/no answer/);
  });
});

describe('fault injection', () => {
  it('answers the next N commands with Busy!, then answers again', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    server.link.busy(2);
    c.send(0x7e);
    expect(await c.next()).toEqual({ type: 'busy' });
    c.send(0x7e);
    expect(await c.next()).toEqual({ type: 'busy' });
    expect((await c.request(0x7e)).cmd).toBe(0x7e);
  });

  it('hangs (reads and never answers) until restored', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    server.link.hang();
    c.send(0x7e);
    await expect(c.next(150)).rejects.toThrow(/no answer/);
    server.link.restore();
    expect((await c.request(0x7c)).cmd).toBe(0x7c);
  });

  it('sends a corrupt frame (bad CRC) in place of the next answer', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    server.link.corrupt(1);
    c.send(0x7e);
    expect(await c.next()).toMatchObject({ type: 'error', code: 'E_SATEL_CRC' });
    expect((await c.request(0x7e)).cmd).toBe(0x7e);
  });

  it('delays answers', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    server.link.delay(120);
    const t0 = Date.now();
    await c.request(0x7e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('drops the link on request; the client can connect again', async () => {
    const { server } = await serve();
    const c = await client(server.port);
    server.link.drop();
    await c.closed;
    const again = await client(server.port);
    expect((await again.request(0x7e)).cmd).toBe(0x7e);
    expect(server.stats.connections).toBe(2);
  });
});
