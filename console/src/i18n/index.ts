import { en, type MessageKey } from './en.ts';
import { pl } from './pl.ts';

export type Lang = 'pl' | 'en';
export const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { pl, en };
export type { MessageKey };

/** Times are shown in the centre's zone, whatever the desk's clock says. */
export const TIME_ZONE = 'Europe/Warsaw';

/** The saved choice; else Polish for a browser that prefers Polish (or says nothing), English for any other. */
export function detectLang(languages: readonly string[], saved: string | null): Lang {
  if (saved === 'pl' || saved === 'en') return saved;
  const first = languages[0]?.toLowerCase();
  return first === undefined || first.startsWith('pl') ? 'pl' : 'en';
}

export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return CATALOGUES[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

const locales: Record<Lang, string> = { pl: 'pl-PL', en: 'en-GB' };

export function formatters(lang: Lang) {
  const dateTime = new Intl.DateTimeFormat(locales[lang], { timeZone: TIME_ZONE, dateStyle: 'short', timeStyle: 'medium' });
  const time = new Intl.DateTimeFormat(locales[lang], { timeZone: TIME_ZONE, timeStyle: 'medium' });
  const number = new Intl.NumberFormat(locales[lang]);
  return {
    dateTime: (t: number | string | Date) => dateTime.format(new Date(t)),
    time: (t: number | string | Date) => time.format(new Date(t)),
    number: (n: number) => number.format(n),
  };
}

/** "waiting for" as m:ss, or h:mm:ss past an hour. */
export function formatWaiting(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
