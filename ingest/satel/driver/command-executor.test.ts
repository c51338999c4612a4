import { describe, expect, it } from 'vitest';
import { createPanel, type Panel } from '../../../simulator/index.ts';
import { StamError } from '../../../platform/index.ts';
import type { Message } from '../protocol/index.ts';
import { createCommandGate, type PanelRequest } from './command-gate.ts';
import { executeCommand, settleInterrupted } from './command-executor.ts';

const CODE = { code: '4711' };

/** The simulated panel model answering over a request function, recording every command byte it got. */
function panelLink(panel: Panel): { request: PanelRequest; sent: number[] } {
  const sent: number[] = [];
  return {
    sent,
    request: (msg: Message) => {
      sent.push(msg.cmd);
      const answer = panel.handle({ cmd: msg.cmd, data: msg.data })[0];
      return answer ? Promise.resolve(answer) : Promise.reject(new StamError('E_SATEL_TIMEOUT', 'no answer'));
    },
  };
}
const armed = (panel: Panel) => panel.snapshot().partitionStates.armed ?? [];

describe('command executor against the panel model', () => {
  it('arm: the panel arms, the read-back of 0x0A confirms it, SUCCEEDED names the partitions', async () => {
    const panel = createPanel({ userCode: CODE.code });
    const { request, sent } = panelLink(panel);
    const out = await executeCommand(request, { action: 'arm', params: { mode: 0, partitions: [1, 2] } }, CODE);
    expect(out).toEqual({ status: 'SUCCEEDED', reason: 'partitions 1, 2 armed', panelResultCode: 0 });
    expect(armed(panel)).toEqual([1, 2]);
    expect(sent).toEqual([0x80, 0x0a]);
  });

  it('a wrong user code is REJECTED with the panel\'s reason and result code, and the code appears nowhere in it', async () => {
    const panel = createPanel({ userCode: CODE.code });
    const out = await executeCommand(panelLink(panel).request, { action: 'arm', params: { partitions: [1] } }, { code: '9999' });
    expect(out.status).toBe('REJECTED');
    expect(out.reason).toMatch(/^wrong user code/);
    expect(out.reason).toContain('0x01');
    expect(out.panelResultCode).toBe(1);
    expect(out.reason).not.toContain('9999');
    expect(armed(panel)).toEqual([]);
  });

  it('arming with a violated zone is refused with "zones violated (force arm possible)"; force_arm then arms', async () => {
    const panel = createPanel({ userCode: CODE.code });
    panel.violateZone(3);
    const { request } = panelLink(panel);
    const refused = await executeCommand(request, { action: 'arm', params: { partitions: [1] } }, CODE);
    expect(refused).toMatchObject({ status: 'REJECTED', panelResultCode: 0x11 });
    expect(refused.reason).toMatch(/^cannot arm: zones violated \(force arm possible\)/);
    const forced = await executeCommand(request, { action: 'force_arm', params: { partitions: [1] } }, CODE);
    expect(forced).toMatchObject({ status: 'SUCCEEDED', reason: 'partitions 1 armed' });
  });

  it('with an exit time the read-back finds the partition arming, not armed yet: SUCCEEDED says so', async () => {
    const panel = createPanel({ userCode: CODE.code, exitDelayMs: 30_000 });
    const out = await executeCommand(panelLink(panel).request, { action: 'arm', params: { partitions: [1] } }, CODE);
    expect(out).toMatchObject({ status: 'SUCCEEDED', reason: 'arming: exit time running for partitions 1' });
  });

  it('disarm, clear alarm and outputs are confirmed by their own read-back', async () => {
    const panel = createPanel({ userCode: CODE.code });
    const { request, sent } = panelLink(panel);
    await executeCommand(request, { action: 'arm', params: { partitions: [1] } }, CODE);
    panel.violateZone(2); // armed: the violation becomes an alarm
    expect(panel.snapshot().partitionStates.alarm).toEqual([1]);
    expect(await executeCommand(request, { action: 'clear_alarm', params: { partitions: [1] } }, CODE)).toMatchObject({ status: 'SUCCEEDED', reason: 'alarm cleared on partitions 1' });
    expect(await executeCommand(request, { action: 'disarm', params: { partitions: [1] } }, CODE)).toMatchObject({ status: 'SUCCEEDED', reason: 'partitions 1 disarmed' });
    expect(await executeCommand(request, { action: 'outputs_on', params: { outputs: [4, 5] } }, CODE)).toMatchObject({ status: 'SUCCEEDED', reason: 'outputs 4, 5 on' });
    expect(panel.snapshot().outputsOn).toEqual([4, 5]);
    expect(await executeCommand(request, { action: 'outputs_off', params: { outputs: [4] } }, CODE)).toMatchObject({ status: 'SUCCEEDED', reason: 'outputs 4 off' });
    expect(panel.snapshot().outputsOn).toEqual([5]);
    expect(sent.filter((c) => c >= 0x80)).toEqual([0x80, 0x85, 0x84, 0x88, 0x89]);
  });

  it('no answer after sending is FAILED with "outcome unknown, not repeated"; the frame went out exactly once', async () => {
    const sent: number[] = [];
    const out = await executeCommand((msg) => { sent.push(msg.cmd); return Promise.reject(new StamError('E_SATEL_TIMEOUT', 'no answer to armMode0 within 500 ms')); },
      { action: 'arm', params: { partitions: [1] } }, CODE);
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/did not answer.*outcome unknown, not repeated/);
    expect(sent).toEqual([0x80]);
  });

  it('no link: FAILED "no link to the panel" without sending anything', async () => {
    const gate = createCommandGate();
    gate.close('connect ECONNREFUSED 127.0.0.1:1');
    const out = await gate.submit((request) => executeCommand(request, { action: 'arm', params: { partitions: [1] } }, CODE))
      .catch((err: Error) => ({ status: 'FAILED', reason: err.message }));
    expect(out).toEqual({ status: 'FAILED', reason: 'no link to the panel: connect ECONNREFUSED 127.0.0.1:1' });
  });

  it('an interrupted command is settled by read-back alone and never sent again', async () => {
    const panel = createPanel({ userCode: CODE.code });
    const { request, sent } = panelLink(panel);
    expect(await settleInterrupted(request, { action: 'arm', params: { partitions: [1] } })).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/interrupted before the panel confirmed; not repeated \(read-back: partitions 1 not armed\)/) as unknown });
    panel.arm([1]);
    expect(await settleInterrupted(request, { action: 'arm', params: { partitions: [1] } })).toMatchObject({ status: 'SUCCEEDED', reason: expect.stringContaining('confirmed by read-back') as unknown });
    expect(sent.some((c) => c >= 0x80)).toBe(false);
    const dead = await settleInterrupted(() => Promise.reject(new StamError('E_SATEL_LINK', 'link down')), { action: 'disarm', params: { partitions: [1] } });
    expect(dead).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/outcome unknown, not repeated/) as unknown });
  });
});

describe('command gate (between polls)', () => {
  it('a command submitted to an open gate wakes the poller and runs in runPending, commands in order', async () => {
    let woken = 0;
    const gate = createCommandGate({ onSubmit: () => { woken++; } });
    const order: string[] = [];
    gate.open((msg) => { order.push(`req ${msg.cmd}`); return Promise.resolve(msg); });
    const a = gate.submit(async (req) => { await req({ cmd: 1, data: Buffer.alloc(0) }); await req({ cmd: 11, data: Buffer.alloc(0) }); return 'a'; });
    const b = gate.submit(async (req) => { await req({ cmd: 2, data: Buffer.alloc(0) }); return 'b'; });
    expect([woken, gate.pending, order.length]).toEqual([2, 2, 0]);
    await gate.runPending();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(order).toEqual(['req 1', 'req 11', 'req 2']);
    expect(gate.pending).toBe(0);
  });

  it('before the first link commands wait for it; once the link failed they fail at once', async () => {
    const gate = createCommandGate();
    const early = gate.submit(() => Promise.resolve('ran after the first link'));
    gate.open((msg) => Promise.resolve(msg));
    await gate.runPending();
    await expect(early).resolves.toBe('ran after the first link');
    gate.close('connection closed by the module');
    await expect(gate.submit(() => Promise.resolve('never'))).rejects.toThrow('no link to the panel: connection closed by the module');
  });

  it('closing the gate fails waiting commands at once with E_SATEL_LINK (not sent)', async () => {
    const gate = createCommandGate();
    gate.open((msg) => Promise.resolve(msg));
    const waiting = gate.submit(() => Promise.resolve('never'));
    gate.close('lease lost');
    await expect(waiting).rejects.toMatchObject({ code: 'E_SATEL_LINK', message: 'no link to the panel: lease lost', details: { sent: false } });
  });
});
