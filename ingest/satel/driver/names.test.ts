import { describe, expect, it } from 'vitest';
import { decodeDeviceNameRequest, DeviceType, encodeDeviceName, encodeResult, type Message } from '../protocol/index.ts';
import { createNameReader } from './names.ts';

/** A panel with partitions 1–2 and zones 1–3; zone 2 does not exist, zone 3 has no name. */
function panel(): { request: (msg: Message) => Promise<Message>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    request: (msg) => {
      const { type, number } = decodeDeviceNameRequest(msg);
      asked.push(`${type}:${number}`);
      if (type === DeviceType.partition && number <= 2) return Promise.resolve(encodeDeviceName({ type, number, function: 0, name: `Part ${number}` }));
      if (type === DeviceType.zone && number === 1) return Promise.resolve(encodeDeviceName({ type, number, function: 1, name: 'Main entrance' }));
      if (type === DeviceType.zone && number === 3) return Promise.resolve(encodeDeviceName({ type, number, function: 1, name: '' }));
      return Promise.resolve(encodeResult(0x08));
    },
  };
}

describe('names from the panel (0xEE)', () => {
  it('reads partitions then zones, skipping devices the panel does not have and empty names', async () => {
    const p = panel();
    const r = createNameReader({ partitions: 3, zones: 3 });
    while (!r.done) await r.step(p.request, () => true, 2);
    expect(p.asked).toEqual(['0:1', '0:2', '0:3', '1:1', '1:2', '1:3']);
    expect(r.requests).toBe(6);
    expect(r.result()).toEqual({
      partitions: [{ number: 1, name: 'Part 1' }, { number: 2, name: 'Part 2' }],
      zones: [{ number: 1, name: 'Main entrance' }],
    });
  });

  it('sends no more than the step allows, and nothing while the budget is spent', async () => {
    const p = panel();
    const r = createNameReader({ partitions: 2, zones: 2 });
    await r.step(p.request, () => true, 3);
    expect(p.asked).toHaveLength(3);
    await r.step(p.request, () => false, 3);
    expect(p.asked).toHaveLength(3);
    expect(r.done).toBe(false);
    await r.step(p.request, () => true, 3);
    expect(r.done).toBe(true);
    expect(p.asked).toHaveLength(4);
  });

  it('an answer for another device is a protocol error, not a name', async () => {
    const r = createNameReader({ partitions: 1, zones: 0 });
    const wrong = () => Promise.resolve(encodeDeviceName({ type: DeviceType.partition, number: 7, function: 0, name: 'Other' }));
    await expect(r.step(wrong, () => true, 1)).rejects.toMatchObject({ code: 'E_SATEL_PROTOCOL' });
  });
});
