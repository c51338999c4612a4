/**
 * What templates match against: the text normalised as vendors' devices vary it — Unicode NFC, lower case,
 * no diacritics (devices write "przekroczyla" as often as "przekroczyła"), decimal comma → dot, "°C",
 * "st.C" and "stC" → "c", runs of white space → one space. The raw text is kept as received, separately.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/ł/g, 'l')
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/(\d),(\d)/g, '$1.$2')
    .replace(/°\s*c\b|\bst\.?\s?c\b/g, 'c')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `9.1` / `-0.5` → number; anything else → null. */
export function toNumber(s: string | undefined): number | null {
  if (s === undefined || !/^[-+]?\d+(\.\d+)?$/.test(s.trim())) return null;
  return Number(s);
}

/** A normalised unit as the event carries it. */
export function toUnit(s: string | undefined): string | null {
  if (s === undefined || s === '') return null;
  const u = s.trim();
  if (u === 'c') return '°C';
  if (u === 'f') return '°F';
  if (u === '%' || u === '%rh') return '%';
  return u;
}

const HIGH = /^(powyzej|ponad|wyzsza|za wysoka|przekrocz\w*|above|over|high|too high|exceeded|max|>|>=)$/;
const LOW = /^(ponizej|nizsza|za niska|below|under|low|too low|min|<|<=)$/;

/** HIGH / LOW from a direction word or sign; null when it names neither. */
export function toDirection(s: string | undefined): 'HIGH' | 'LOW' | null {
  if (s === undefined) return null;
  const d = s.trim();
  return HIGH.test(d) ? 'HIGH' : LOW.test(d) ? 'LOW' : null;
}

const offsetCache = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC of `timeZone` at the instant `ms`. */
function offsetMinutes(ms: number, timeZone: string): number {
  let f = offsetCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetCache.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Math.round((Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * A device's local time written in the text — `DD.MM.YYYY HH:MM[:SS]`, `YYYY-MM-DD HH:MM[:SS]` or
 * `YYYY/MM/DD HH:MM[:SS]` — in `timeZone` (Europe/Warsaw) → epoch ms; null when it is no such time.
 */
export function parseLocalTime(s: string | undefined, timeZone: string): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  let m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})[ t,]+(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  let y: number, mo: number, d: number;
  if (m) { d = Number(m[1]); mo = Number(m[2]); y = Number(m[3]); } else {
    m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ t,]+(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
    if (!m) return null;
    y = Number(m[1]); mo = Number(m[2]); d = Number(m[3]);
  }
  const h = Number(m[4]), mi = Number(m[5]), sec = Number(m[6] ?? 0);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, sec);
  // The offset at the guessed instant, then again at the result (the two differ only around a DST change).
  let ms = wall - offsetMinutes(wall, timeZone) * 60_000;
  ms = wall - offsetMinutes(ms, timeZone) * 60_000;
  return ms;
}
