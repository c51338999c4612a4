import { describe, expect, it } from 'vitest';
import { decodeDeviceName, decodeDeviceNameRequest, DeviceType, encodeDeviceName, encodeDeviceNameRequest, hasExtraByte } from './devices.ts';
import { message } from './types.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const name16 = (s: string): Buffer => Buffer.from(s.padEnd(16, ' '), 'latin1');

describe('0xEE device name', () => {
  it('asks with type and number, 256 sent as 0', () => {
    expect(encodeDeviceNameRequest(DeviceType.zone, 5)).toEqual({ cmd: 0xee, data: hex('01 05') });
    expect(encodeDeviceNameRequest(DeviceType.zoneWithPartition, 256).data).toEqual(hex('05 00'));
    expect(decodeDeviceNameRequest(message(0xee, hex('01 00')))).toEqual({ type: 1, number: 256 });
  });
  it('refuses types outside 0..5 and numbers outside 1..256', () => {
    expect(() => encodeDeviceNameRequest(6 as 0, 1)).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => encodeDeviceNameRequest(DeviceType.zone, 257)).toThrow(/outside 1..256/);
    expect(() => decodeDeviceNameRequest(message(0xee, hex('09 01')))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
    expect(() => decodeDeviceNameRequest(message(0xee, hex('01')))).toThrow(/1 data bytes, expected 2/);
  });
  it('decodes a 19-byte answer: type, number, function byte, trimmed 16-byte name', () => {
    const a = decodeDeviceName(message(0xee, Buffer.concat([hex('00 02 01'), name16('  Garage')])));
    expect(a).toEqual({ type: 0, number: 2, function: 1, name: 'Garage', extra: undefined });
  });
  it('reads the extra byte of types 2 and 5 only', () => {
    expect([0, 1, 2, 3, 4, 5].map(hasExtraByte)).toEqual([false, false, true, false, false, true]);
    const zone = decodeDeviceName(message(0xee, Buffer.concat([hex('05 00 03'), name16('Hall PIR'), hex('04')])));
    expect(zone).toEqual({ type: 5, number: 256, function: 3, name: 'Hall PIR', extra: 4 });
    expect(() => decodeDeviceName(message(0xee, Buffer.concat([hex('05 01 03'), name16('Hall PIR')])))).toThrow(/type 5 has 19 data bytes, expected 20/);
    expect(() => decodeDeviceName(message(0xee, Buffer.concat([hex('01 01 03'), name16('Hall PIR'), hex('04')])))).toThrow(/expected 19/);
  });
  it('round-trips names with Polish letters through Windows-1250', () => {
    const msg = encodeDeviceName({ type: DeviceType.user, number: 3, function: 0, name: 'Łukasz Żółć', extra: 1 });
    expect(msg.data).toHaveLength(20);
    expect(decodeDeviceName(msg)).toEqual({ type: 2, number: 3, function: 0, name: 'Łukasz Żółć', extra: 1 });
    expect(() => encodeDeviceName({ type: 1, number: 1, function: 0, name: 'x'.repeat(17) })).toThrow(/longer than 16/);
  });
  it('decodes with another text encoding when asked', () => {
    const msg = message(0xee, Buffer.concat([hex('04 01 00'), Buffer.from('Sirène'.padEnd(16, ' '), 'latin1')]));
    expect(decodeDeviceName(msg, { encoding: 'latin1' }).name).toBe('Sirène');
  });
});
