import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../cli/index.ts';
import { waitUntil } from '../helpers/system.ts';

describe('stam all supervision', () => {
  it('restarts a role that dies, with growing backoff, and logs why it died', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    const log = pino({ level: 'info' }, sink);
    // A gateway with an invalid port exits at once with code 2 (configuration error naming the variable).
    const sup = createSupervisor({ log, pretty: false, env: { GATEWAY_PORT: 'not-a-port' } });
    sup.start({ role: 'gateway' });
    const deaths = () => lines.filter((l) => l.role === 'gateway' && typeof l.msg === 'string' && l.msg.startsWith('gateway died'));
    await waitUntil('three restarts', () => deaths().length >= 3, 60_000, 100);
    await sup.stop();
    const d = deaths();
    expect(d[0]).toMatchObject({ code: 2, signal: null, msg: 'gateway died (exit code 2); restarting' });
    const waits = d.map((l) => l.restartInMs as number);
    // Full-jitter backoff: attempt n waits between half and all of 500·2^n ms.
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[2]).toBeGreaterThanOrEqual(2000);
    expect(waits[2]).toBeLessThanOrEqual(4000);
  });

  it('stops every child on stop(), and a stopped role is not restarted', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    const sup = createSupervisor({ log: pino({ level: 'info' }, sink), pretty: false, env: { SIMULATOR_PORT: '0', SIMULATOR_CONTROL_PORT: '0', OPS_PORT: '0' } });
    sup.start({ role: 'simulator', args: ['--panels', '2'] });
    await waitUntil('simulator running', () => sup.pid('simulator') !== undefined, 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    await sup.stop();
    expect(sup.roles).toEqual([]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('died'))).toEqual([]);
  });
});
