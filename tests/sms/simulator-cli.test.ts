import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { decodeDeliver } from '../../ingest/sms/core/index.ts';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import { waitUntil } from '../helpers/system.ts';

/** `stam simulator --modem` as a process: its control API over HTTP, and AT over the pty it creates. */
describe('stam simulator --modem', () => {
  const device = `${process.cwd()}/.data/test-modem/cli-${process.pid}/ttyGSM0`;
  let sim: RoleProcess | undefined;
  afterAll(async () => { await sim?.stop(); });

  it('serves the modem on a pty and its control API beside the panels', async () => {
    sim = startRole('simulator', { OPS_PORT: '0', SIMULATOR_PORT: '0', SIMULATOR_CONTROL_PORT: '0', LOG_LEVEL: 'info' }, ['--panels', '1', '--modem', '--modem-device', device, '--modem-capacity', '5']);
    const up = await sim.waitForLog((l) => l.msg === 'simulator serving panels', 30_000);
    const control = up.control as string;
    expect(up.modem).toBe(device);
    const post = (path: string, body: unknown) => fetch(`${control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post('/modem/sms', { from: '+48600100200' })).status).toBe(400);
    const sent = await (await post('/modem/sms', { from: '+48600100200', text: 'Zażółć gęślą jaźń '.repeat(5), order: 'reverse', referenceBits: 16 })).json() as { parts: number; encoding: string };
    expect(sent).toMatchObject({ parts: 2, encoding: 'ucs2' });
    expect(await (await fetch(`${control}/modem`)).json()).toMatchObject({ used: 2, capacity: 5, up: true });
    for (const [path, body] of [['/modem/fault/garbage', {}], ['/modem/fault/delay', { command: 'CMGD', ms: 5 }], ['/modem/fault/storage-full', { on: false }]] as const) {
      expect((await post(path, body)).status, path).toBe(200);
    }

    const port = new SerialPort({ path: device, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    let text = '';
    port.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    const cmd = async (line: string) => { text = ''; port.write(`${line}\r`); await waitUntil(`${line} answered`, () => /\r\n(OK|ERROR|\+CMS ERROR: \d+)\r\n/.test(text), 5_000, 10); return text; };
    await cmd('ATE0');
    await cmd('AT+CMGF=0');
    const listing = await cmd('AT+CMGL=4');
    const pdus = [...listing.matchAll(/\+CMGL: \d+,\d,,(\d+)\s+([0-9A-F]+)/g)].map((m) => decodeDeliver(m[2]!, Number(m[1])));
    expect(pdus.map((p) => p.concat?.seq)).toEqual([2, 1]);
    expect(pdus.every((p) => p.concat?.iei === 8 && p.sender === '+48600100200')).toBe(true);
    await new Promise<void>((res) => port.close(() => res()));

    expect((await post('/modem/fault/vanish', { ms: 500 })).status).toBe(200);
    expect(existsSync(device)).toBe(false);
    await waitUntil('the device back', () => existsSync(device), 10_000);
  });
});
