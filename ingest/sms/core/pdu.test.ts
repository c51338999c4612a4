import { describe, expect, it } from 'vitest';
import { decodeDeliver, encodeDeliver, splitText } from './pdu.ts';

/** An independent septet packer for the tests: builds the bit string by hand (LSB first), not via gsm7.ts. */
function packByHand(septets: number[], fillBits: number): string {
  let bits = '0'.repeat(fillBits);
  for (const s of septets) for (let i = 0; i < 7; i++) bits += (s >> i) & 1 ? '1' : '0';
  while (bits.length % 8) bits += '0';
  let hex = '';
  for (let i = 0; i < bits.length; i += 8) {
    let o = 0;
    for (let b = 0; b < 8; b++) if (bits[i + b] === '1') o |= 1 << b;
    hex += o.toString(16).padStart(2, '0');
  }
  return hex.toUpperCase();
}

describe('SMS-DELIVER decoding', () => {
  it('reads the classic 7-bit example: sender, SMSC time stamp and text', () => {
    const p = decodeDeliver('07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07');
    expect(p).toMatchObject({ sender: '+31641600986', senderType: 'international', encoding: 'gsm7', text: 'How are you?', concat: null });
    // Time zone octet 0x08: sign bit set, zero quarters — the wall time is UTC.
    expect(new Date(p.smscTimeMs).toISOString()).toBe('2002-08-26T19:37:41.000Z');
  });

  it('reads Polish text sent as UCS2, and the zone of the time stamp (+02:00)', () => {
    const text = 'Zażółć gęślą jaźń — 9,1°C';
    const ud = Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
    const pdu = `00040B918406010002F00008${'52605121030080'}${(ud.length / 2).toString(16).padStart(2, '0').toUpperCase()}${ud}`;
    const p = decodeDeliver(pdu, pdu.length / 2 - 1);
    expect(p).toMatchObject({ sender: '+48601000200', encoding: 'ucs2', text });
    expect(p.smscTzMinutes).toBe(120);
    expect(new Date(p.smscTimeMs).toISOString()).toBe('2025-06-15T10:30:00.000Z');
  });

  it('reads 7-bit text after an 8-bit concatenation header, skipping the one fill bit', () => {
    // UDH 05 00 03 2A 03 02 = 6 octets = 48 bits: the text starts at bit 49 (7 header septets).
    const text = 'ALARM CZESC 2'; // capitals, digits and space sit at their ASCII codes in the basic table
    const sept = [...text].map((c) => c.charCodeAt(0));
    const ud = '0500032A0302' + packByHand(sept, 1);
    const udl = 7 + sept.length;
    const pdu = `00440B918406010002F00000525051210300${'80'}${udl.toString(16).padStart(2, '0').toUpperCase()}${ud}`;
    const p = decodeDeliver(pdu);
    expect(p.text).toBe(text);
    expect(p.concat).toEqual({ iei: 0, ref: 0x2a, total: 3, seq: 2 });
  });

  it('reads 7-bit text after a 16-bit concatenation header (no fill bits) and the extension table', () => {
    const text = 'T>8[C] {x} €5 ~|^\\';
    const ext: Record<string, number> = { '[': 0x3c, ']': 0x3e, '{': 0x28, '}': 0x29, '€': 0x65, '~': 0x3d, '|': 0x40, '^': 0x14, '\\': 0x2f };
    const sept = [...text].flatMap((c) => (c in ext ? [0x1b, ext[c]!] : [c.charCodeAt(0)]));
    const ud = '060804BEEF0201' + packByHand(sept, 0);
    const pdu = `00440B918406010002F00000525051210300${'80'}${(8 + sept.length).toString(16).padStart(2, '0').toUpperCase()}${ud}`;
    const p = decodeDeliver(pdu);
    expect(p.text).toBe(text);
    expect(p.concat).toEqual({ iei: 8, ref: 0xbeef, total: 2, seq: 1 });
  });

  it('reads the basic-table characters that differ from ASCII (§ at 0x5F, ¿ at 0x60, @ at 0x00)', () => {
    const pdu = `00040B918406010002F00000525051210300800${'4'}${packByHand([0x5f, 0x60, 0x00, 0x11], 0)}`;
    expect(decodeDeliver(pdu).text).toBe('§¿@_');
  });

  it('reads an alphanumeric sender', () => {
    const { pdu } = encodeDeliver({ sender: 'Efento', text: 'x', smscTimeMs: Date.UTC(2025, 5, 15, 10, 30), smscTzMinutes: 120 });
    // Address: 11 semi-octets, TOA D0, "Efento" packed: computed by hand from the septets of E f e n t o.
    expect(pdu.slice(4, 4 + 4 + 12)).toBe('0BD0' + packByHand([0x45, 0x66, 0x65, 0x6e, 0x74, 0x6f], 0));
    expect(decodeDeliver(pdu)).toMatchObject({ sender: 'Efento', senderType: 'alphanumeric', text: 'x' });
  });

  it('refuses a PDU cut short, one whose length disagrees with +CMGR, odd hex and non-DELIVER messages', () => {
    const { pdu, tpduLength } = encodeDeliver({ sender: '+48600100200', text: 'Efento: ALARM', smscTimeMs: 0, smscTzMinutes: 0 });
    expect(() => decodeDeliver(pdu.slice(0, -4))).toThrow(/does not fit|ends/);
    expect(() => decodeDeliver(pdu, tpduLength + 1)).toThrow(/announced/);
    expect(() => decodeDeliver(`${pdu}0`)).toThrow(/even-length hex/);
    expect(() => decodeDeliver('0006' + pdu.slice(4))).toThrow(/not an SMS-DELIVER/);
    expect(decodeDeliver(pdu, tpduLength).text).toBe('Efento: ALARM');
  });
});

describe('SMS-DELIVER encoding (the modem simulator)', () => {
  it('round-trips GSM and UCS2 parts with both concatenation headers', () => {
    for (const [text, encoding] of [['Efento: ALARM [T] 9.1C > 8.0C €', 'gsm7'], ['Chłodnia: 9,1°C powyżej progu', 'ucs2']] as const) {
      for (const iei of [0, 8] as const) {
        const { pdu } = encodeDeliver({ sender: '+48600100200', text, smscTimeMs: Date.UTC(2025, 0, 2, 3, 4, 5), smscTzMinutes: 60, encoding, concat: { iei, ref: 300, total: 3, seq: 2 } });
        const p = decodeDeliver(pdu);
        expect(p).toMatchObject({ text, encoding, concat: { iei, ref: iei === 0 ? 300 & 0xff : 300, total: 3, seq: 2 }, smscTzMinutes: 60 });
        expect(p.smscTimeMs).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
      }
    }
  });

  it('encodes negative zones with the sign bit (−03:00 → 0x29)', () => {
    const { pdu } = encodeDeliver({ sender: '+1555', text: 'a', smscTimeMs: 0, smscTzMinutes: -180 });
    expect(pdu.slice(28, 30)).toBe('29'); // 12 quarters: digits 1, 2 → low nibble 1 | sign 8, high nibble 2
    expect(decodeDeliver(pdu).smscTzMinutes).toBe(-180);
  });

  it('splits as a phone does: 160/153 septets, 70/67 characters, never inside an extension character or a surrogate pair', () => {
    expect(splitText('a'.repeat(160), 'gsm7')).toHaveLength(1);
    expect(splitText('a'.repeat(161), 'gsm7').map((p) => p.length)).toEqual([153, 8]);
    expect(splitText('a'.repeat(161), 'gsm7', 8).map((p) => p.length)).toEqual([152, 9]);
    const ext = `${'a'.repeat(152)}€b`;
    expect(splitText(ext.padEnd(170, 'c'), 'gsm7')[0]).toBe('a'.repeat(152));
    expect(splitText('ż'.repeat(71), 'ucs2').map((p) => p.length)).toEqual([67, 4]);
    const emoji = `${'ż'.repeat(66)}😀ż${'ż'.repeat(10)}`;
    const parts = splitText(emoji, 'ucs2');
    expect(parts.join('')).toBe(emoji);
    expect(parts[0]).toBe('ż'.repeat(66));
  });
});
