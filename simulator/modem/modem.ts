/**
 * A GSM modem as sms-ingest sees it over its serial line: AT commands in, echo (ATE1 after power-up, as real
 * modems do), information lines, OK / ERROR / +CME ERROR / +CMS ERROR out, and +CMTI pushed when a message
 * is stored (after AT+CNMI=2,1…). PDU mode only (AT+CMGF=1 is refused). Faults: garbage on the line, a reset
 * (in the middle of an answer: the answer is cut off, the modem is silent, then RDY, echo back on, +CNMI
 * and PDU mode forgotten), a hang, slow commands (SIM writes take time on real modems).
 */
import type { SmsStore } from './store.ts';

export interface ModemStats { commands: number; lists: number; reads: number; deletes: number; resets: number; garbageBursts: number }

export interface ModemOptions {
  store: SmsStore;
  write: (data: string) => void;
  /** The store name the modem reports (SM). */
  memory?: string;
  /** Signal quality +CSQ reports (0–31). */
  rssi?: number;
  now?: () => number;
  /** Called with the index and PDU of every message the driver deletes. */
  onDelete?: (index: number, pdu: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createModem(o: ModemOptions) {
  const { store } = o;
  const mem = o.memory ?? 'SM';
  const now = o.now ?? Date.now;
  let echo = true;
  let pduMode = false;
  let indications = false;
  let silentUntil = 0;
  let resetNext: { ms: number } | undefined;
  let garbageNext = 0;
  const delays = new Map<string, number>();
  const stats: ModemStats = { commands: 0, lists: 0, reads: 0, deletes: 0, resets: 0, garbageBursts: 0 };
  let input = '';
  let chain: Promise<void> = Promise.resolve();

  const silent = () => now() < silentUntil;
  const out = (s: string) => { if (!silent()) o.write(s); };
  const cpms = () => `${store.used},${store.capacity}`;

  function powerUp(afterMs: number): void {
    echo = true; pduMode = false; indications = false;
    silentUntil = now() + afterMs;
    stats.resets++;
    setTimeout(() => { silentUntil = 0; o.write('\r\nRDY\r\n'); }, afterMs).unref();
  }

  function garbage(): string {
    stats.garbageBursts++;
    const noise = ['\u0000\u00ff\u0013', '+CM', '~~#$%', '\u00a9\u0007', '@@@\r\n', '0791'];
    return `${noise.join('\r\n')}\r\n`;
  }

  function listing(stat: 0 | 1 | undefined): string[] {
    const lines: string[] = [];
    for (const [i, s] of store.list(stat)) {
      lines.push(`+CMGL: ${i},${s.stat},,${s.tpduLength}`, s.pdu);
      store.markRead(i);
    }
    return lines;
  }

  /** The answer lines of one command (final result last), or undefined when it gets none. */
  function answer(cmd: string): string[] {
    const c = cmd.trim().toUpperCase();
    const index = (prefix: string) => Number(c.slice(prefix.length));
    if (c === 'AT') return ['OK'];
    if (c === 'ATE0' || c === 'ATE1') { echo = c === 'ATE1'; return ['OK']; }
    if (c.startsWith('AT+CMEE=')) return ['OK'];
    if (c === 'AT+CPIN?') return ['+CPIN: READY', 'OK'];
    if (c === 'AT+CMGF=0') { pduMode = true; return ['OK']; }
    if (c.startsWith('AT+CMGF=')) return ['+CMS ERROR: 303'];
    if (c === 'AT+CSQ') return [`+CSQ: ${o.rssi ?? 21},99`, 'OK'];
    if (c === 'AT+CPMS?') return [`+CPMS: "${mem}",${cpms()},"${mem}",${cpms()},"${mem}",${cpms()}`, 'OK'];
    if (c.startsWith('AT+CPMS=')) return [`+CPMS: ${cpms()},${cpms()},${cpms()}`, 'OK'];
    if (c.startsWith('AT+CNMI=')) { indications = c.startsWith('AT+CNMI=2,1') || c.startsWith('AT+CNMI=1,1'); return ['OK']; }
    if (!pduMode && /^AT\+CMG[LRD]/.test(c)) return ['+CMS ERROR: 302'];
    if (c.startsWith('AT+CMGL=')) {
      stats.lists++;
      const which = index('AT+CMGL=');
      return [...listing(which === 4 ? undefined : which === 0 ? 0 : 1), 'OK'];
    }
    if (c.startsWith('AT+CMGR=')) {
      stats.reads++;
      const i = index('AT+CMGR=');
      const s = store.get(i);
      if (!s) return ['+CMS ERROR: 321'];
      const lines = [`+CMGR: ${s.stat},,${s.tpduLength}`, s.pdu, 'OK'];
      store.markRead(i);
      return lines;
    }
    if (c.startsWith('AT+CMGD=')) {
      const [i, flag] = c.slice('AT+CMGD='.length).split(',').map(Number);
      if (flag === 4) { for (const [j, s] of store.list()) { store.delete(j); o.onDelete?.(j, s.pdu); } return ['OK']; }
      const s = store.get(i!);
      if (!s) return ['+CMS ERROR: 321'];
      store.delete(i!);
      stats.deletes++;
      o.onDelete?.(i!, s.pdu);
      return ['OK'];
    }
    return ['ERROR'];
  }

  async function run(cmd: string): Promise<void> {
    if (silent()) return; // rebooting or hung: the command is lost, as on a real modem
    stats.commands++;
    if (echo) out(`${cmd}\r`);
    const verb = /^AT\+?([A-Z]+)/i.exec(cmd.trim())?.[1]?.toUpperCase() ?? 'AT';
    const wait = delays.get(verb) ?? delays.get('*') ?? 0;
    if (wait > 0) await sleep(wait);
    if (silent()) return;
    const lines = answer(cmd);
    let text = lines.map((l) => `\r\n${l}\r\n`).join('');
    if (garbageNext > 0) { garbageNext--; text = `${garbage()}${text}`; }
    if (resetNext && lines.length > 1) {
      const { ms } = resetNext;
      resetNext = undefined;
      out(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      powerUp(ms);
      return;
    }
    out(text);
    // A freed slot lets a message the network held land now.
    if (verb === 'CMGD') for (const i of store.deliverQueued(now())) announce(i);
  }

  function announce(i: number): void {
    if (indications && !silent()) o.write(`\r\n+CMTI: "${mem}",${i}\r\n`);
  }

  return {
    stats,
    get state() { return { echo, pduMode, indications, silent: silent() }; },
    /** Bytes the driver wrote. Commands end with CR; each is answered in turn. */
    input(chunk: string): void {
      input += chunk;
      let cr: number;
      while ((cr = input.search(/[\r\n]/)) >= 0) {
        const cmd = input.slice(0, cr);
        input = input.slice(cr + 1);
        if (cmd.trim() === '') continue;
        chain = chain.then(() => run(cmd)).catch(() => undefined);
      }
      if (input.length > 4096) input = '';
    },
    /** A message arrived from the network: stored (and announced), or held by the network while full. */
    receive(m: { pdu: string; tpduLength: number }): number | undefined {
      const i = store.put(m, now());
      if (i !== undefined) announce(i);
      return i;
    },
    /** Frees what the storage-full fault held back (the network delivers it). */
    deliverQueued(): number[] {
      const got = store.deliverQueued(now());
      for (const i of got) announce(i);
      return got;
    },
    garbageNow(): void { o.write(garbage()); },
    garbageInto(n: number): void { garbageNext += n; },
    /** Resets now, or (midAnswer) in the middle of the next answer of more than one line. */
    reset(ms: number, midAnswer: boolean): void {
      if (midAnswer) resetNext = { ms };
      else { o.write('\r\n'); powerUp(ms); }
    },
    hang(ms: number): void { silentUntil = now() + ms; },
    /** Command verb (CMGD, CMGR, CMGL, … or '*') → answer delay in ms; 0 removes it. */
    delay(verb: string, ms: number): void { if (ms > 0) delays.set(verb.toUpperCase(), ms); else delays.delete(verb.toUpperCase()); },
  };
}

export type Modem = ReturnType<typeof createModem>;
