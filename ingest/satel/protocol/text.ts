import { TextDecoder } from 'node:util';
import { requestError } from './errors.ts';

/**
 * Fixed-width texts (device names, event descriptions). INTEGRA panels with Polish/central-European
 * firmware use Windows-1250; the encoding is configurable on decode, fixed to Windows-1250 on encode.
 */
const DEFAULT_TEXT_ENCODING = 'windows-1250';

const decoders = new Map<string, TextDecoder>();

function decoder(encoding: string): TextDecoder {
  let d = decoders.get(encoding);
  if (d === undefined) {
    d = new TextDecoder(encoding);
    decoders.set(encoding, d);
  }
  return d;
}

/** Decodes and trims spaces and NULs at both ends. */
export function decodeText(bytes: Uint8Array, encoding: string = DEFAULT_TEXT_ENCODING): string {
  return decoder(encoding).decode(bytes).replace(/^[\s\0]+|[\s\0]+$/gu, '');
}

let cp1250: Map<string, number> | undefined;

function cp1250Table(): Map<string, number> {
  if (cp1250 === undefined) {
    cp1250 = new Map();
    const d = decoder('windows-1250');
    for (let b = 0x80; b <= 0xff; b++) {
      const ch = d.decode(Uint8Array.of(b));
      if (ch !== '\uFFFD' && !cp1250.has(ch)) cp1250.set(ch, b);
    }
  }
  return cp1250;
}

/** Encodes into exactly `width` bytes of Windows-1250, padded with spaces; characters it lacks become '?'. */
export function encodeText(text: string, width: number): Buffer {
  const out = Buffer.alloc(width, 0x20);
  const chars = [...text];
  if (chars.length > width) throw requestError(`text "${text}" is longer than ${width} characters`);
  const table = cp1250Table();
  chars.forEach((ch, i) => {
    const code = ch.codePointAt(0)!;
    out[i] = code < 0x80 ? code : (table.get(ch) ?? 0x3f);
  });
  return out;
}
