import { describe, expect, it } from 'vitest';
import { encodeMonitorRequest, encodeNewDataQuery, encodeStateQuery } from './commands.ts';
import { encodeArm, encodeOutputsOn } from './control.ts';
import { encodeDeviceNameRequest } from './devices.ts';
import { encodeEventTextRequest, encodeReadEvent } from './eventlog.ts';
import { decodeRequest } from './requests.ts';
import { message } from './types.ts';

describe('decodeRequest (panel side)', () => {
  it('classifies every client request the codec can encode', () => {
    expect(decodeRequest(encodeStateQuery(0x00, { extended: true }))).toEqual({ kind: 'state', cmd: 0, state: 'zones', extended: true });
    expect(decodeRequest(encodeStateQuery(0x1a))).toEqual({ kind: 'state', cmd: 0x1a, state: 'rtc', extended: false });
    expect(decodeRequest(encodeStateQuery(0x1d))).toEqual({ kind: 'state', cmd: 0x1d, state: 'troubles', extended: false });
    expect(decodeRequest(message(0x7c))).toEqual({ kind: 'moduleVersion' });
    expect(decodeRequest(message(0x7e))).toEqual({ kind: 'integraVersion' });
    expect(decodeRequest(encodeNewDataQuery({ extended: true }))).toEqual({ kind: 'newData', mode: 'poll', extended: true });
    expect(decodeRequest(encodeMonitorRequest([1]))).toEqual({ kind: 'newData', mode: 'monitor', cmds: new Set([1]) });
    expect(decodeRequest(encodeArm(0, { code: '1111' }, [1]))).toEqual({
      kind: 'control', action: 'arm', cmd: 0x80, mode: 0, userCode: '1111', partitions: [1],
    });
    expect(decodeRequest(encodeOutputsOn({ code: '1111' }, [2]))).toMatchObject({ kind: 'control', action: 'outputsOn', outputs: [2] });
    expect(decodeRequest(encodeReadEvent())).toEqual({ kind: 'readEvent', index: 0xffffff });
    expect(decodeRequest(encodeEventTextRequest({ code: 5, restore: false, long: true }))).toEqual({ kind: 'eventText', code: 5, restore: false, long: true });
    expect(decodeRequest(encodeDeviceNameRequest(4, 12))).toEqual({ kind: 'deviceName', type: 4, number: 12 });
  });
  it('rejects unknown commands with E_SATEL_PROTOCOL naming the command', () => {
    for (const cmd of [0x20, 0x2f, 0x7d, 0x8a, 0xee + 2]) {
      expect(() => decodeRequest(message(cmd))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL', details: { cmd } }));
    }
  });
  it('rejects malformed data of known commands', () => {
    expect(() => decodeRequest(message(0x7c, Buffer.from([0])))).toThrow(/module version request has 1 data bytes/);
    expect(() => decodeRequest(message(0x0a, Buffer.from([0xff])))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
    expect(() => decodeRequest(message(0x84, Buffer.alloc(3)))).toThrow(/expected 12/);
  });
});
