/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), and the septet packing of
 * TS 23.040 §9.2.3.24: septets are packed least significant bit first; after a user data header the first
 * septet starts on a septet boundary, so up to six fill bits follow the header.
 */

/** Code point of each basic-table septet 0x00–0x7F (0x1B is the escape to the extension table). */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: septet after 0x1B → character. */
export const GSM7_EXTENSION: Readonly<Record<number, string>> = {
  0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€',
};

const basicIndex = new Map<string, number>([...GSM7_BASIC].map((c, i) => [c, i]));
const extensionIndex = new Map<string, number>(Object.entries(GSM7_EXTENSION).map(([k, c]) => [c, Number(k)]));

/** The septets of `text`, or undefined when a character has no GSM 7-bit form (then UCS2 is needed). */
export function toSeptets(text: string): number[] | undefined {
  const out: number[] = [];
  for (const ch of text) {
    const b = ch === '\u001b' ? undefined : basicIndex.get(ch);
    if (b !== undefined) { out.push(b); continue; }
    const e = extensionIndex.get(ch);
    if (e === undefined) return undefined;
    out.push(0x1b, e);
  }
  return out;
}

/** Packs septets after `fillBits` zero bits; returns the octets. */
export function packSeptets(septets: readonly number[], fillBits = 0): Buffer {
  const totalBits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (const s of septets) {
    for (let i = 0; i < 7; i++, bit++) if ((s >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  }
  return out;
}

/** Reads `count` septets after `fillBits` bits of `octets`. */
export function unpackSeptets(octets: Buffer, count: number, fillBits = 0): number[] {
  const out: number[] = [];
  let bit = fillBits;
  for (let n = 0; n < count; n++) {
    let s = 0;
    for (let i = 0; i < 7; i++, bit++) if ((octets[bit >> 3]! >> (bit & 7)) & 1) s |= 1 << i;
    out.push(s);
  }
  return out;
}

/** Septets back to text (escape + unknown extension septet reads as the basic character, as 23.038 says). */
export function fromSeptets(septets: readonly number[]): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]!;
    if (s === 0x1b && i + 1 < septets.length) {
      const next = septets[++i]!;
      out += GSM7_EXTENSION[next] ?? GSM7_BASIC[next];
    } else {
      out += GSM7_BASIC[s];
    }
  }
  return out;
}
