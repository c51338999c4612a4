/**
 * One open modem port as a command queue: the pure AT session (../core) fed with the port's lines, one
 * command at a time, each with its deadline. URCs, echoes and garbage go to the callbacks; garbage is
 * counted and logged, never fatal. When the port closes, the command in flight and every queued one fail.
 */
import { createAtSession, createLineSplitter, type AtCommand, type Reply, type Urc } from '../core/index.ts';
import type { Logger } from '../../../platform/index.ts';
import { metrics as m } from './metrics.ts';
import type { ModemPort } from './port.ts';

export interface LinkEvents {
  urc(urc: Urc): void;
  /** A command echoed while echo should be off: the modem restarted without a banner. */
  echo(line: string): void;
}

interface Queued { command: AtCommand; resolve: (r: Reply) => void }

const verbOf = (line: string) => /^AT\+?([A-Z]+)/i.exec(line)?.[1]?.toUpperCase() ?? 'AT';

export function createModemLink(o: { log: Logger; events: LinkEvents }) {
  const session = createAtSession();
  const splitter = createLineSplitter();
  const queue: Queued[] = [];
  let port: ModemPort | undefined;
  let current: (Queued & { timer: NodeJS.Timeout; startedAt: number }) | undefined;
  let garbageLogged = 0;

  function settle(reply: Reply): void {
    const c = current;
    if (!c) return;
    current = undefined;
    clearTimeout(c.timer);
    const verb = verbOf(c.command.line);
    m.commands.inc({ verb, outcome: reply.ok ? 'ok' : reply.type });
    m.commandSeconds.observe({ verb }, (performance.now() - c.startedAt) / 1000);
    c.resolve(reply);
    pump();
  }

  function pump(): void {
    if (current || queue.length === 0) return;
    const next = queue.shift()!;
    if (!port?.isOpen) { next.resolve({ ok: false, type: 'RESET', code: null, text: 'port not open', info: [] }); pump(); return; }
    const bytes = session.start(next.command);
    current = {
      ...next, startedAt: performance.now(),
      timer: setTimeout(() => { for (const e of session.timeout()) if (e.type === 'reply') settle(e.reply); }, next.command.timeoutMs),
    };
    port.write(bytes).catch((err: Error) => {
      for (const e of session.timeout('RESET', `write failed: ${err.message}`)) if (e.type === 'reply') settle(e.reply);
    });
  }

  function onLine(line: string, overlong: boolean): void {
    if (overlong) { m.garbage.inc(); return; }
    for (const e of session.feed(line)) {
      if (e.type === 'reply') settle(e.reply);
      else if (e.type === 'urc') { m.unsolicited.inc({ code: e.urc.code }); o.events.urc(e.urc); }
      else if (e.type === 'echo') o.events.echo(e.line);
      else {
        m.garbage.inc();
        // Logged, but not a line per byte of a noisy cable: the first ones, then every hundredth.
        if (garbageLogged++ < 20 || garbageLogged % 100 === 0) o.log.warn({ line: JSON.stringify(e.line.slice(0, 80)), reason: e.reason, seen: garbageLogged }, 'garbage from the modem ignored');
      }
    }
  }

  return {
    /** Attaches an open port (after open, and again after every reopen). */
    attach(p: ModemPort): void { port = p; splitter.reset(); },
    /** Bytes read from the port. */
    data(text: string): void { for (const { line, overlong } of splitter.push(text)) onLine(line, overlong); },
    /** The port is gone: everything in flight or queued fails with RESET. */
    detach(reason: string): void {
      port = undefined;
      for (const e of session.timeout('RESET', reason)) if (e.type === 'reply') settle(e.reply);
      for (const q of queue.splice(0)) q.resolve({ ok: false, type: 'RESET', code: null, text: reason, info: [] });
    },
    run(command: AtCommand): Promise<Reply> {
      return new Promise((resolve) => { queue.push({ command, resolve }); pump(); });
    },
    get queued(): number { return queue.length + (current ? 1 : 0); },
  };
}

export type ModemLink = ReturnType<typeof createModemLink>;
