/**
 * SMS-DELIVER PDUs as a modem in PDU mode (AT+CMGF=0) hands them over: decoding for the driver, encoding
 * for the modem simulator (3GPP TS 23.040 §9.2.2.1 and §9.2.3, alphabets of TS 23.038). Pure.
 *
 * Written here rather than taken from node-pdu 2.1.1: checked against it, that library reads septet 0x5F
 * as '`' instead of '§' (a wrong basic-table entry), and its encoder knows neither the 8-bit concatenation
 * reference (IEI 0x00) nor the two septets of extension characters when it splits a message.
 */
import { fromSeptets, packSeptets, toSeptets, unpackSeptets } from './gsm7.ts';
import { pduError } from './errors.ts';

export type SmsEncoding = 'gsm7' | '8bit' | 'ucs2';

/** Concatenation information element: IEI 0x00 (8-bit reference) or 0x08 (16-bit reference). */
export interface Concat { iei: 0 | 8; ref: number; total: number; seq: number }

/** One SMS (or one part of a long one) as the network delivered it. */
export interface SmsPart {
  /** '+48600100200' (international), '600100200' (other numbers) or the alphanumeric name ('Efento'). */
  sender: string;
  senderType: 'international' | 'number' | 'alphanumeric';
  /** Service centre time stamp, epoch ms, and its zone in minutes east of UTC. */
  smscTimeMs: number;
  smscTzMinutes: number;
  encoding: SmsEncoding;
  text: string;
  concat: Concat | null;
}

class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}
  byte(what: string): number {
    if (this.pos >= this.b.length) throw pduError(`PDU ends before the ${what} (${this.b.length} octets)`);
    return this.b[this.pos++]!;
  }
  take(n: number, what: string): Buffer {
    if (this.pos + n > this.b.length) throw pduError(`PDU ends inside the ${what} (needs ${n} octets at ${this.pos}, has ${this.b.length})`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const bcd = (o: number) => `${o & 0x0f}${o >> 4}`;

function semiOctets(b: Buffer, digits: number): string {
  const map: Record<string, string> = { a: '*', b: '#', c: 'a', d: 'b', e: 'c' };
  let s = '';
  for (const o of b) s += (o & 0x0f).toString(16) + (o >> 4).toString(16);
  return [...s.slice(0, digits)].map((c) => map[c] ?? c).join('');
}

function readAddress(r: Reader): Pick<SmsPart, 'sender' | 'senderType'> {
  const digits = r.byte('originating address length');
  const toa = r.byte('originating address type');
  const raw = r.take(Math.ceil(digits / 2), 'originating address');
  const ton = (toa >> 4) & 0x07;
  if (ton === 5) {
    const name = fromSeptets(unpackSeptets(raw, Math.floor((digits * 4) / 7))).replace(/@+$/, '');
    return { sender: name, senderType: 'alphanumeric' };
  }
  const number = semiOctets(raw, digits);
  return ton === 1 ? { sender: `+${number}`, senderType: 'international' } : { sender: number, senderType: 'number' };
}

function readTimestamp(r: Reader): { ms: number; tz: number } {
  const o = r.take(7, 'service centre time stamp');
  const n = (i: number) => Number(bcd(o[i]!));
  if ([0, 1, 2, 3, 4, 5].some((i) => !/^\d\d$/.test(bcd(o[i]!)))) throw pduError('service centre time stamp is not decimal');
  const tzByte = o[6]!;
  const quarters = (tzByte & 0x07) * 10 + (tzByte >> 4);
  const tz = (tzByte & 0x08 ? -1 : 1) * quarters * 15;
  const year = n(0) < 70 ? 2000 + n(0) : 1900 + n(0);
  const local = Date.UTC(year, n(1) - 1, n(2), n(3), n(4), n(5));
  return { ms: local - tz * 60_000, tz };
}

function alphabetOf(dcs: number): SmsEncoding {
  const group = dcs >> 4;
  if (group <= 0x7) {
    if (dcs & 0x20) throw pduError(`compressed user data (DCS 0x${dcs.toString(16)}) is not supported`);
    const a = (dcs >> 2) & 0x03;
    return a === 1 ? '8bit' : a === 2 ? 'ucs2' : 'gsm7';
  }
  if (group === 0xe) return 'ucs2';
  if (group === 0xf) return dcs & 0x04 ? '8bit' : 'gsm7';
  return 'gsm7'; // 0xC, 0xD (message waiting) and the reserved groups
}

function concatOf(udh: Buffer): Concat | null {
  let concat: Concat | null = null;
  for (let i = 0; i + 1 < udh.length;) {
    const iei = udh[i]!;
    const len = udh[i + 1]!;
    const data = udh.subarray(i + 2, i + 2 + len);
    if (data.length < len) throw pduError('user data header element runs past the header');
    if (iei === 0x00 && len === 3) concat = { iei: 0, ref: data[0]!, total: data[1]!, seq: data[2]! };
    if (iei === 0x08 && len === 4) concat = { iei: 8, ref: data.readUInt16BE(0), total: data[2]!, seq: data[3]! };
    i += 2 + len;
  }
  // 23.040 §9.2.3.24.1: a zero count or a sequence number outside it means "ignore the element".
  return concat && concat.total > 0 && concat.seq > 0 && concat.seq <= concat.total ? concat : null;
}

/**
 * Decodes an SMS-DELIVER PDU (hex, with the SMSC prefix as AT+CMGR/AT+CMGL show it). `tpduLength` is the
 * `<length>` of the +CMGR/+CMGL line (octets after the SMSC part): a PDU cut short by a reset or line noise
 * is refused, never read as a shorter message. Throws E_SMS_PDU.
 */
export function decodeDeliver(hex: string, tpduLength?: number): SmsPart {
  if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) throw pduError('PDU is not an even-length hex string');
  const r = new Reader(Buffer.from(hex, 'hex'));
  const smscLength = r.byte('SMSC length');
  r.take(smscLength, 'SMSC address');
  if (tpduLength !== undefined && r.b.length - r.pos !== tpduLength) {
    throw pduError(`PDU has ${r.b.length - r.pos} octets after the SMSC, the modem announced ${tpduLength}`);
  }
  const first = r.byte('first octet');
  if ((first & 0x03) !== 0) throw pduError(`not an SMS-DELIVER (message type ${first & 0x03})`);
  const sender = readAddress(r);
  r.byte('protocol identifier');
  const encoding = alphabetOf(r.byte('data coding scheme'));
  const ts = readTimestamp(r);
  const udl = r.byte('user data length');
  const hasHeader = (first & 0x40) !== 0;
  const rest = r.b.subarray(r.pos);
  let udh: Buffer = Buffer.alloc(0);
  if (hasHeader) {
    if (rest.length < 1) throw pduError('user data header missing');
    udh = rest.subarray(1, 1 + rest[0]!);
    if (udh.length < rest[0]!) throw pduError('user data header runs past the PDU');
  }
  const headerOctets = hasHeader ? 1 + udh.length : 0;
  let text: string;
  if (encoding === 'gsm7') {
    const headerSeptets = Math.ceil((headerOctets * 8) / 7);
    const count = udl - headerSeptets;
    if (count < 0 || Math.ceil((udl * 7) / 8) > rest.length) throw pduError(`user data length ${udl} septets does not fit the ${rest.length} octets received`);
    text = fromSeptets(unpackSeptets(rest, count, headerSeptets * 7));
  } else {
    if (udl > rest.length || udl < headerOctets) throw pduError(`user data length ${udl} octets does not fit the ${rest.length} octets received`);
    const body = rest.subarray(headerOctets, udl);
    if (encoding === 'ucs2') {
      if (body.length % 2) throw pduError('UCS2 user data has an odd number of octets');
      text = Buffer.from(body).swap16().toString('utf16le');
    } else {
      text = body.toString('latin1');
    }
  }
  return { ...sender, smscTimeMs: ts.ms, smscTzMinutes: ts.tz, encoding, text, concat: hasHeader ? concatOf(udh) : null };
}

// ---- encoding (the modem simulator) ----

function encodeAddress(sender: string): Buffer {
  if (/^\+?[0-9]{1,20}$/.test(sender)) {
    const digits = sender.replace('+', '');
    const padded = digits.length % 2 ? `${digits}F` : digits;
    const octets = [...padded.matchAll(/../g)].map((m) => parseInt(m[0][1]! + m[0][0]!, 16));
    return Buffer.from([digits.length, sender.startsWith('+') ? 0x91 : 0x81, ...octets]);
  }
  const septets = toSeptets(sender);
  if (!septets || septets.length > 11) throw pduError(`sender '${sender}' is neither a number nor an alphanumeric name of up to 11 GSM characters`);
  const packed = packSeptets(septets);
  return Buffer.concat([Buffer.from([Math.ceil((septets.length * 7) / 4), 0xd0]), packed]);
}

function encodeTimestamp(ms: number, tzMinutes: number): Buffer {
  const d = new Date(ms + tzMinutes * 60_000);
  const swap = (n: number) => { const s = String(n).padStart(2, '0'); return parseInt(s[1]! + s[0]!, 16); };
  const q = Math.round(Math.abs(tzMinutes) / 15);
  const tz = ((q % 10) << 4) | Math.floor(q / 10) | (tzMinutes < 0 ? 0x08 : 0);
  return Buffer.from([d.getUTCFullYear() % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map(swap).concat(tz));
}

export interface DeliverInput {
  sender: string;
  text: string;
  smscTimeMs: number;
  smscTzMinutes: number;
  /** 'gsm7' fails for text outside the GSM alphabet; default: gsm7 when possible, else ucs2. */
  encoding?: 'gsm7' | 'ucs2';
  concat?: Concat | null;
  /** Service centre number; default none (`00`), as many modems show. */
  smsc?: string;
}

/** One SMS-DELIVER PDU (hex, SMSC part first) and its `<length>` as +CMGR shows it. */
export function encodeDeliver(m: DeliverInput): { pdu: string; tpduLength: number } {
  const encoding = m.encoding ?? (toSeptets(m.text) ? 'gsm7' : 'ucs2');
  const udh = m.concat
    ? m.concat.iei === 0
      ? Buffer.from([5, 0x00, 3, m.concat.ref & 0xff, m.concat.total, m.concat.seq])
      : Buffer.from([6, 0x08, 4, (m.concat.ref >> 8) & 0xff, m.concat.ref & 0xff, m.concat.total, m.concat.seq])
    : Buffer.alloc(0);
  let udl: number;
  let ud: Buffer;
  if (encoding === 'gsm7') {
    const septets = toSeptets(m.text);
    if (!septets) throw pduError('text is not in the GSM 7-bit alphabet');
    const headerSeptets = Math.ceil((udh.length * 8) / 7);
    udl = headerSeptets + septets.length;
    const body = packSeptets(septets, headerSeptets * 7 - udh.length * 8);
    ud = Buffer.concat([udh, body]);
  } else {
    const body = Buffer.from(m.text, 'utf16le').swap16();
    ud = Buffer.concat([udh, body]);
    udl = ud.length;
  }
  if (ud.length > 140) throw pduError(`user data of ${ud.length} octets exceeds the 140 of one SMS`);
  const smsc = m.smsc ? encodeAddress(m.smsc).subarray(1) : Buffer.alloc(0);
  const tpdu = Buffer.concat([
    Buffer.from([m.concat ? 0x44 : 0x04]), encodeAddress(m.sender), Buffer.from([0x00, encoding === 'ucs2' ? 0x08 : 0x00]),
    encodeTimestamp(m.smscTimeMs, m.smscTzMinutes), Buffer.from([udl]), ud,
  ]);
  const prefix = Buffer.from([smsc.length, ...smsc]);
  return { pdu: Buffer.concat([prefix, tpdu]).toString('hex').toUpperCase(), tpduLength: tpdu.length };
}

/**
 * Splits a text as a phone does: one SMS when it fits (160 GSM septets or 70 UCS2 characters), else parts
 * of 153 septets / 67 characters (with an 8-bit reference: 6-octet header) or 152 / 66 (16-bit). An
 * extension character (2 septets) and a UTF-16 surrogate pair are never cut in half.
 */
export function splitText(text: string, encoding: 'gsm7' | 'ucs2', iei: 0 | 8 = 0): string[] {
  const cost = (ch: string) => (encoding === 'gsm7' ? toSeptets(ch)!.length : ch.length);
  const total = [...text].reduce((s, ch) => s + cost(ch), 0);
  const single = encoding === 'gsm7' ? 160 : 70;
  if (total <= single) return [text];
  const headerOctets = iei === 0 ? 6 : 7;
  const room = encoding === 'gsm7' ? Math.floor(((140 - headerOctets) * 8) / 7) : Math.floor((140 - headerOctets) / 2);
  const parts: string[] = [];
  let cur = '';
  let used = 0;
  for (const ch of text) {
    if (used + cost(ch) > room) { parts.push(cur); cur = ''; used = 0; }
    cur += ch;
    used += cost(ch);
  }
  if (cur) parts.push(cur);
  return parts;
}
