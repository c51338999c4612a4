/**
 * The command/answer state machine of one modem link, pure: the shell writes what `start` returns, feeds
 * every line it reads, and calls `timeout()` when a command's time is up. One command is in flight at a
 * time. Every line is one of: the command's echo, its information lines (and the PDU line after each
 * +CMGR/+CMGL header), its final result, an unsolicited result code — which may arrive in the middle of a
 * reply — a start-up banner (the modem reset: the command in flight is lost), or garbage. Nothing here
 * throws on bad input: garbage is reported, counted by the shell, and the link goes on.
 */
import { isPduLine, parseFinal, parseUrc, type AtCommand, type FinalResult, type Urc } from './at.ts';

/** One information line of a reply, with the PDU line that followed it (+CMGR, +CMGL). */
export interface InfoLine { header: string; pdu?: string }

export type Failure = Extract<FinalResult, { ok: false }> | { ok: false; type: 'TIMEOUT' | 'RESET'; code: null; text: string };

export type Reply = { ok: true; info: InfoLine[] } | (Failure & { info: InfoLine[] });

export type SessionEvent =
  | { type: 'reply'; command: AtCommand; reply: Reply }
  | { type: 'urc'; urc: Urc }
  | { type: 'echo'; line: string }
  | { type: 'garbage'; line: string; reason: string };

interface InFlight { command: AtCommand; info: InfoLine[]; awaitingPdu: boolean }

export function createAtSession() {
  let current: InFlight | undefined;

  const finish = (reply: Reply): SessionEvent => {
    const command = current!.command;
    current = undefined;
    return { type: 'reply', command, reply };
  };

  function classify(line: string): SessionEvent[] {
    const c = current;
    if (c?.awaitingPdu) {
      c.awaitingPdu = false;
      if (isPduLine(line)) {
        c.info[c.info.length - 1]!.pdu = line.trim();
        return [];
      }
      // The PDU never came (noise, reset): the header stays without one and the message is read again later.
    }
    const final = parseFinal(line);
    if (c && final) return [finish(final.ok ? { ok: true, info: c.info } : { ...final, info: c.info })];
    if (c && /^AT/i.test(line) && line.trim().toUpperCase() === c.command.line.toUpperCase()) return [{ type: 'echo', line }];
    if (c?.command.prefix && line.startsWith(`${c.command.prefix}:`)) {
      c.info.push({ header: line.trim() });
      if (c.command.pdu) c.awaitingPdu = true;
      return [];
    }
    const urc = parseUrc(line);
    if (urc?.code === 'BANNER') {
      const out: SessionEvent[] = [{ type: 'urc', urc }];
      if (c) out.unshift(finish({ ok: false, type: 'RESET', code: null, text: `modem restarted (${line.trim()}) during ${c.command.line}`, info: c.info }));
      return out;
    }
    if (urc) return [{ type: 'urc', urc }];
    if (final) return [{ type: 'garbage', line, reason: 'final result with no command in flight (late answer)' }];
    if (/^AT/i.test(line)) return [{ type: 'echo', line }];
    return [{ type: 'garbage', line, reason: c ? `unexpected line during ${c.command.line}` : 'unexpected line' }];
  }

  return {
    get busy(): boolean { return current !== undefined; },
    get inFlight(): AtCommand | undefined { return current?.command; },
    /** Begins a command; returns the bytes to write. Throws when one is in flight (a bug in the caller). */
    start(command: AtCommand): string {
      if (current) throw new Error(`AT session busy with ${current.command.line}, cannot start ${command.line}`);
      current = { command, info: [], awaitingPdu: false };
      return `${command.line}\r`;
    },
    feed(line: string): SessionEvent[] {
      if (line.trim() === '') return [];
      return classify(line);
    },
    /** The command in flight ran out of time (or the port went away): it fails, its partial reply is dropped. */
    timeout(reason: 'TIMEOUT' | 'RESET' = 'TIMEOUT', text = 'no final result in time'): SessionEvent[] {
      if (!current) return [];
      return [finish({ ok: false, type: reason, code: null, text: `${current.command.line}: ${text}`, info: current.info })];
    },
  };
}

export type AtSession = ReturnType<typeof createAtSession>;
