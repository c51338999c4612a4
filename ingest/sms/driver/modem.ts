/**
 * The modem, supervised: open the port (again and again with backoff when it vanishes, a USB modem
 * unplugged), run the init sequence with retries (AT until OK, ATE0, AT+CMEE=1, AT+CPIN? → READY,
 * AT+CMGF=0, AT+CPMS, AT+CNMI=2,1,0,0,0), sweep the store (AT+CMGL=4), then read each +CMTI, sweep again
 * every drain interval, and read signal and storage use every heartbeat. A modem that restarts (banner, echo
 * back on, heartbeat unanswered) is initialised and swept again; a full store is drained at once.
 */
import { CMS, commands as at, parseCpms, parseCsq, type Reply, type Urc } from '../core/index.ts';
import { backoffMs, sleep, type Logger } from '../../../platform/index.ts';
import { entriesOf, type Intake } from './intake.ts';
import { createModemLink } from './link.ts';
import { metrics as m } from './metrics.ts';
import { openModemPort, type ModemPort } from './port.ts';

export type ModemState = 'stopped' | 'opening' | 'initialising' | 'ready' | 'waiting';

export interface ModemOptions {
  device: string;
  baudRate: number;
  storage: 'SM' | 'ME' | 'MT';
  commandTimeoutMs: number;
  heartbeatMs: number;
  drainIntervalMs: number;
  reopenMaxMs: number;
  intake: () => Intake;
  log: Logger;
  /** The modem answers and is initialised / is not reachable (supervision). */
  onUp(): void;
  onDown(reason: string): void;
}

class InitError extends Error {}

export function createModem(o: ModemOptions) {
  const { log } = o;
  let state: ModemState = 'stopped';
  let port: ModemPort | undefined;
  let lost: ((reason: string) => void) | undefined;
  let timers: NodeJS.Timeout[] = [];
  let missedBeats = 0;
  let initFailures = 0;
  let sweeping: Promise<void> | undefined;
  let sweepAgain = false;
  const abort = new AbortController();
  const link = createModemLink({ log, events: { urc: (u) => onUrc(u), echo: (l) => onEcho(l) } });

  /** Ends the current session (the loop reopens or re-initialises). */
  function fail(reason: string, reopen: boolean): void {
    if (state === 'stopped') return;
    const l = lost;
    lost = undefined;
    if (reopen) { const p = port; port = undefined; link.detach(reason); void p?.close(); }
    l?.(reason);
  }

  function onUrc(u: Urc): void {
    if (u.code === 'CMTI' && state === 'ready') { if (!o.intake().busy(u.index)) void read(u.index); }
    else if (u.code === 'BANNER') { m.resets.inc(); log.warn({ line: u.line }, 'modem restarted; initialising again'); fail(`modem restarted (${u.line})`, false); }
    else if (u.code === 'MEMORY_FULL') { log.warn({ line: u.line }, 'modem reports its store full; draining'); void sweep(); }
    else if (u.code === 'UNKNOWN') log.info({ line: u.line }, 'unknown unsolicited result code ignored');
  }

  function onEcho(line: string): void {
    if (state !== 'ready') return;
    m.resets.inc();
    log.warn({ line }, 'the modem echoes again (it restarted without a banner); initialising again');
    fail('echo back on', false);
  }

  const checkFull = (r: Reply) => {
    if (!r.ok && r.type === '+CMS ERROR' && r.code === CMS.MEMORY_FULL) { m.storageFull.set(1); void sweep(); }
  };

  async function read(index: number): Promise<void> {
    const r = await link.run(at.read(index, o.commandTimeoutMs));
    checkFull(r);
    if (r.ok) await o.intake().accept(entriesOf(r.info, index));
    else if (!(r.type === '+CMS ERROR' && r.code === CMS.INVALID_INDEX)) log.warn({ index, err: r.text }, 'stored message not read; the next sweep reads it');
  }

  /** AT+CMGL=4: every stored message, read or not. Sweeps asked for while one runs are merged into one more. */
  function sweep(): Promise<void> {
    if (sweeping) { sweepAgain = true; return sweeping; }
    sweeping = (async () => {
      do {
        sweepAgain = false;
        const r = await link.run(at.listAll(o.commandTimeoutMs * 10));
        checkFull(r);
        if (r.ok) await o.intake().accept(entriesOf(r.info));
        else log.warn({ err: r.text }, 'listing the store failed; the next sweep tries again');
        await storage();
      } while (sweepAgain && state === 'ready');
    })().finally(() => { sweeping = undefined; });
    return sweeping;
  }

  async function storage(): Promise<boolean> {
    const r = await link.run(at.storageQuery(o.commandTimeoutMs));
    const use = r.ok ? r.info.map((i) => parseCpms(i.header)).find((x) => x) : undefined;
    if (!use) return r.ok;
    m.storageUsed.set(use.used);
    m.storageTotal.set(use.total);
    const full = use.total > 0 && use.used >= use.total;
    m.storageFull.set(full ? 1 : 0);
    if (full && !sweeping) { log.warn(use, 'modem store full; draining'); void sweep(); }
    return true;
  }

  async function heartbeat(): Promise<void> {
    if (state !== 'ready') return;
    const r = await link.run(at.signal(o.commandTimeoutMs));
    const q = r.ok ? r.info.map((i) => parseCsq(i.header)).find((x) => x) : undefined;
    if (q) { m.signal.set(q.rssi); if (q.dbm !== null) m.signalDbm.set(q.dbm); }
    const ok = r.ok && (await storage());
    if (ok) { missedBeats = 0; return; }
    if (++missedBeats >= 2) { m.resets.inc(); fail(`heartbeat unanswered (${r.ok ? 'AT+CPMS?' : r.text})`, false); }
  }

  async function must(cmd: ReturnType<typeof at.at>, what: string): Promise<Reply> {
    const r = await link.run(cmd);
    if (!r.ok) throw new InitError(`${what}: ${r.text}`);
    return r;
  }

  async function init(): Promise<void> {
    state = 'initialising';
    let alive = false;
    for (let i = 0; i < 10 && !alive && !abort.signal.aborted; i++) {
      alive = (await link.run(at.at(Math.min(1000, o.commandTimeoutMs)))).ok;
      if (!alive) await sleep(300, abort.signal);
    }
    if (!alive) throw new InitError('no answer to AT');
    await must(at.echoOff(o.commandTimeoutMs), 'ATE0');
    await must(at.verboseErrors(o.commandTimeoutMs), 'AT+CMEE=1');
    const pin = await must(at.pin(o.commandTimeoutMs), 'AT+CPIN?');
    if (!pin.info.some((i) => /READY/.test(i.header))) throw new InitError(`SIM not ready: ${pin.info.map((i) => i.header).join(' ') || 'no +CPIN line'}`);
    await must(at.pduMode(o.commandTimeoutMs), 'AT+CMGF=0');
    await must(at.storage(o.storage, o.commandTimeoutMs), 'AT+CPMS');
    await must(at.indications(o.commandTimeoutMs), 'AT+CNMI');
  }

  /** One session: open (unless open), init, sweep, then wait until it ends. Says whether to reopen the port. */
  async function session(): Promise<{ reopen: boolean; reason: string; wasReady: boolean }> {
    const ended = new Promise<{ reopen: boolean; reason: string; wasReady: boolean }>((resolve) => {
      lost = (reason) => resolve({ reopen: port === undefined, reason, wasReady: true });
    });
    if (!port) {
      state = 'opening';
      try {
        port = await openModemPort({
          path: o.device, baudRate: o.baudRate, onData: (t) => link.data(t),
          onClosed: (reason) => { if (port) { log.warn({ reason }, 'modem port lost'); fail(reason, true); } },
        });
        link.attach(port);
        m.opens.inc({ outcome: 'ok' });
        log.info({ device: o.device, baudRate: o.baudRate }, 'modem port open');
      } catch (err) {
        m.opens.inc({ outcome: 'error' });
        lost = undefined;
        return { reopen: true, reason: `cannot open ${o.device}: ${(err as Error).message}`, wasReady: false };
      }
    }
    try {
      await init();
    } catch (err) {
      m.inits.inc({ outcome: 'error' });
      if (!(err instanceof InitError)) throw err;
      lost = undefined;
      // A modem that keeps failing its init may be wedged: the port is reopened every third time.
      return { reopen: port === undefined || ++initFailures % 3 === 0, reason: `init failed: ${err.message}`, wasReady: false };
    }
    m.inits.inc({ outcome: 'ok' });
    initFailures = 0;
    state = 'ready';
    missedBeats = 0;
    o.onUp();
    log.info({ device: o.device, storage: o.storage }, 'modem ready (PDU mode, +CMTI indications); sweeping the store');
    await o.intake().resume();
    void sweep();
    return ended;
  }

  async function loop(): Promise<void> {
    let attempt = 0;
    while (!abort.signal.aborted) {
      const r = await session();
      if (abort.signal.aborted) break;
      state = 'waiting';
      o.onDown(r.reason);
      if (r.reopen && port) { const p = port; port = undefined; link.detach(r.reason); await p.close(); }
      if (r.wasReady) attempt = 0;
      const wait = backoffMs(attempt++, 1000, o.reopenMaxMs);
      log.warn({ reason: r.reason, retryInMs: wait, reopen: r.reopen }, 'modem not ready; retrying');
      await sleep(wait, abort.signal);
    }
  }

  let running: Promise<void> | undefined;
  return {
    get state(): ModemState { return state; },
    start(): void {
      running = loop().catch((err: Error) => log.fatal({ err: err.message }, 'modem loop failed'));
      timers = [
        setInterval(() => void heartbeat(), o.heartbeatMs),
        setInterval(() => { if (state === 'ready') void sweep(); }, o.drainIntervalMs),
      ];
    },
    /** One command on the link (queued behind the others). */
    run: (c: Parameters<typeof link.run>[0]) => link.run(c),
    /** Runs a sweep now (when ready). */
    sweep: () => (state === 'ready' ? sweep() : Promise.resolve()),
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      abort.abort();
      const p = port;
      port = undefined;
      state = 'stopped';
      lost?.('stopping');
      link.detach('stopping');
      await p?.close();
      await running;
    },
  };
}

export type Modem = ReturnType<typeof createModem>;
