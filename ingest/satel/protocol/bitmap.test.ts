import { describe, expect, it } from 'vitest';
import { bcdToNumber, bitmapToNumbers, decodeUserCode, encodeUserCode, numberToBcd, numbersToBitmap } from './bitmap.ts';

const hex = (b: Buffer): string => b.toString('hex').toUpperCase();

describe('object bitmaps', () => {
  it('puts object n at bit (n-1)%8 of byte (n-1)/8, least significant bit first', () => {
    expect(hex(numbersToBitmap([1], 4))).toBe('01000000');
    expect(hex(numbersToBitmap([8], 4))).toBe('80000000');
    expect(hex(numbersToBitmap([9], 4))).toBe('00010000');
    expect(hex(numbersToBitmap([32], 4))).toBe('00000080');
    expect(hex(numbersToBitmap([1, 3, 10, 128], 16))).toBe(`0502${'00'.repeat(13)}80`);
  });
  it('reads the numbers back in ascending order', () => {
    expect(bitmapToNumbers(Buffer.from('0502000080', 'hex'))).toEqual([1, 3, 10, 40]);
    expect(bitmapToNumbers(Buffer.alloc(32, 0xff))).toEqual(Array.from({ length: 256 }, (_, i) => i + 1));
    expect(bitmapToNumbers(Buffer.alloc(16))).toEqual([]);
  });
  it('round-trips 256 zones in a 32-byte bitmap', () => {
    const zones = [1, 2, 127, 128, 129, 200, 255, 256];
    const map = numbersToBitmap(zones, 32);
    expect(map).toHaveLength(32);
    expect(bitmapToNumbers(map)).toEqual(zones);
  });
  it('rejects numbers outside the bitmap with E_SATEL_REQUEST', () => {
    expect(() => numbersToBitmap([129], 16)).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
    expect(() => numbersToBitmap([0], 4)).toThrow(/does not fit/);
    expect(() => numbersToBitmap([1.5], 4)).toThrow(/does not fit/);
  });
});

describe('user code BCD', () => {
  it('encodes 1234 as 12 34 FF FF FF FF FF FF', () => {
    expect(hex(encodeUserCode('1234'))).toBe('1234FFFFFFFFFFFF');
  });
  it('pads an odd number of digits with F in the low nibble', () => {
    expect(hex(encodeUserCode('12345'))).toBe('12345FFFFFFFFFFF');
  });
  it('puts the prefix first', () => {
    expect(hex(encodeUserCode('1234', '98'))).toBe('981234FFFFFFFFFF');
  });
  it('takes up to 16 digits and no more', () => {
    expect(hex(encodeUserCode('1234567890123456'))).toBe('1234567890123456');
    expect(() => encodeUserCode('12345678', '123456789')).toThrow(expect.objectContaining({ code: 'E_SATEL_REQUEST' }));
  });
  it('refuses non-digits and an empty code', () => {
    expect(() => encodeUserCode('12a4')).toThrow(/decimal digits/);
    expect(() => encodeUserCode('')).toThrow(/decimal digits/);
    expect(() => encodeUserCode('1234', '1x')).toThrow(/decimal digits/);
  });
  it('decodes the digits back (prefix and code together)', () => {
    expect(decodeUserCode(Buffer.from('981234FFFFFFFFFF', 'hex'))).toBe('981234');
    expect(decodeUserCode(encodeUserCode('12345'))).toBe('12345');
  });
  it('rejects codes that are not BCD padded with F', () => {
    expect(() => decodeUserCode(Buffer.from('12F4FFFFFFFFFFFF', 'hex'))).toThrow(expect.objectContaining({ code: 'E_SATEL_PROTOCOL' }));
    expect(() => decodeUserCode(Buffer.from('1A34FFFFFFFFFFFF', 'hex'))).toThrow(/not BCD/);
    expect(() => decodeUserCode(Buffer.alloc(8, 0xff))).toThrow(/empty/);
    expect(() => decodeUserCode(Buffer.alloc(7, 0x11))).toThrow(/8 bytes/);
  });
});

describe('BCD bytes', () => {
  it('converts both ways and rejects nibbles above 9', () => {
    expect(bcdToNumber(0x59)).toBe(59);
    expect(numberToBcd(7)).toBe(0x07);
    expect(numberToBcd(99)).toBe(0x99);
    expect(() => bcdToNumber(0x5a)).toThrow(/not a BCD byte/);
    expect(() => numberToBcd(100)).toThrow(/BCD/);
  });
});
