/**
 * Bytes from the modem as lines. Modems end result lines with CR LF, but an echoed command ends with CR
 * alone, and noise may hold neither: every CR or LF ends a line, empty lines are dropped, and a line longer
 * than any answer (`maxLength`) is cut and reported as garbage rather than growing without bound.
 */
export interface LineEvent { line: string; overlong: boolean }

export function createLineSplitter(maxLength = 1024) {
  let buf = '';
  return {
    /** Feed a chunk (latin1, so every byte is one character); returns the complete lines in it. */
    push(chunk: string): LineEvent[] {
      const out: LineEvent[] = [];
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          if (buf.length > 0) out.push({ line: buf, overlong: false });
          buf = '';
        } else {
          buf += ch;
          if (buf.length >= maxLength) { out.push({ line: buf, overlong: true }); buf = ''; }
        }
      }
      return out;
    },
    /** What arrived after the last line end (a prompt, or a line cut off by a reset). */
    get pending(): string { return buf; },
    reset(): void { buf = ''; },
  };
}

export type LineSplitter = ReturnType<typeof createLineSplitter>;
