import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StamError } from '../../../platform/index.ts';
import { Cmd, cmdName, encodeFrame, FrameParser, hex, IntegrationCipher, message, type FrameEvent, type Message } from '../protocol/index.ts';
import { SATEL_DEFAULTS as defaults } from './defaults.ts';
import { metrics as m } from './metrics.ts';

interface ConnectionOptions {
  host: string;
  port: number;
  /** Left out: SATEL_CONNECT_TIMEOUT_MS's default. */
  connectTimeoutMs?: number;
  /** Left out: SATEL_ANSWER_TIMEOUT_MS's default. */
  answerTimeoutMs?: number;
  /**
   * Sends a harmless 0x7F (reading the new-data list clears nothing) when no request went out for this
   * long, so the module's 25 s idle limit never drops the link while the poller waits (e.g. on the broker).
   * 0 disables it.
   */
  keepAliveMs?: number;
  /** ETHM-1 Plus integration key: every frame travels encrypted (IntegrationCipher). Never logged. */
  integrationKey?: string | undefined;
}

/** A rejected frame, stray bytes or a bad encrypted PDU (for logs and metrics; never ends the link by itself). */
export interface FrameError { code: 'E_SATEL_CRC' | 'E_SATEL_FRAME' | 'E_SATEL_CRYPTO'; reason: string; bytes: number }

interface Pending { msg: Message; resolve: (m: Message) => void; reject: (e: Error) => void; sentAt: number }

const framesIn = m.frames.labels('in');
const framesOut = m.frames.labels('out');

/**
 * One TCP link to an ETHM-1 module. Requests are strictly one at a time (the module answers each before
 * the next may be sent); an answer is the same command or a 0xEF result, anything else is 'unsolicited'.
 *
 * Failure semantics, which the poller acts on:
 * - no answer within answerTimeoutMs → E_SATEL_TIMEOUT (a silent module: reconnect);
 * - `Busy!` as the answer → E_SATEL_BUSY (retry later on the same link); `Busy!` before any answer
 *   means another integration client holds the module → the link closes with that reason;
 * - an answer with a wrong CRC → E_SATEL_CRC at once (not after the timeout), the link stays up;
 * - stray bytes and bad PDUs are reported as 'frameError' events and skipped.
 * Events: 'frameError' (FrameError), 'unsolicited' (Message), 'close' (reason string).
 */
export class PanelConnection extends EventEmitter {
  private readonly socket = new Socket();
  private readonly parser = new FrameParser();
  private readonly cipher: IntegrationCipher | undefined;
  /** Encrypted links: a refusal `Busy!` comes in plain text before any PDU. */
  private plainSniffer: FrameParser | undefined;
  private readonly answerTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  /** Requests waiting for the one in flight to be answered. */
  private readonly waiting: Pending[] = [];
  private pending: Pending | undefined;
  /** One timer per link, re-armed at every send (cheaper than a timer per request). */
  private answerTimer: NodeJS.Timeout | undefined;
  private closedReason: string | undefined;
  private answered = false;
  private keepAlive: NodeJS.Timeout | undefined;
  framesIn = 0;
  framesOut = 0;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.answerTimeoutMs = opts.answerTimeoutMs ?? defaults.SATEL_ANSWER_TIMEOUT_MS;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? defaults.SATEL_CONNECT_TIMEOUT_MS;
    if (opts.integrationKey !== undefined && opts.integrationKey !== '') {
      this.cipher = new IntegrationCipher(opts.integrationKey);
      this.plainSniffer = new FrameParser({ maxFrameBytes: 16 });
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    this.socket.on('close', () => this.fail('connection closed by the module'));
  }

  get closed(): boolean { return this.closedReason !== undefined; }
  get encrypted(): boolean { return this.cipher !== undefined; }
  /** Why the link ended (undefined while open). */
  get closeReason(): string | undefined { return this.closedReason; }

  connect(): Promise<void> {
    const where = `${this.opts.host}:${this.opts.port}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close(`connect to ${where} timed out`);
        reject(new StamError('E_SATEL_LINK', `connect to ${where} timed out after ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      const onError = (err: Error) => { clearTimeout(timer); reject(new StamError('E_SATEL_LINK', `connect to ${where}: ${err.message}`, { cause: err })); };
      this.socket.once('error', onError);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        this.socket.off('error', onError);
        this.armKeepAlive();
        resolve();
      });
      this.socket.connect(this.opts.port, this.opts.host);
    });
  }

  /** Sends one command and resolves with its answer (same cmd, or 0xEF for control commands and refusals). */
  request(msg: Message): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      if (this.closedReason !== undefined) { reject(new StamError('E_SATEL_LINK', this.closedReason)); return; }
      const p: Pending = { msg, resolve, reject, sentAt: 0 };
      if (this.pending) this.waiting.push(p);
      else this.send(p);
    });
  }

  private send(p: Pending): void {
    this.pending = p;
    p.sentAt = performance.now();
    if (this.answerTimer) this.answerTimer.refresh();
    else this.answerTimer = setTimeout(() => this.onAnswerTimeout(), this.answerTimeoutMs);
    this.write(encodeFrame(p.msg.cmd, p.msg.data));
  }

  private onAnswerTimeout(): void {
    const p = this.pending;
    if (!p) return;
    const cmd = p.msg.cmd;
    this.settle(p, undefined, new StamError('E_SATEL_TIMEOUT', `no answer to ${cmdName(cmd)} (${hex(cmd)}) within ${this.answerTimeoutMs} ms`));
  }

  close(reason = 'closed by driver'): void {
    this.fail(reason);
    this.socket.destroy();
  }

  private write(frame: Buffer): void {
    this.framesOut++;
    framesOut.inc();
    this.socket.write(this.cipher ? this.cipher.wrap(frame) : frame);
    this.keepAlive?.refresh();
  }

  private armKeepAlive(): void {
    const every = this.opts.keepAliveMs ?? 0;
    if (every <= 0) return;
    this.keepAlive = setTimeout(() => {
      if (this.closed) return;
      // A link busy with a request is not idle; the next write re-arms the timer.
      if (!this.pending) this.request(message(Cmd.newData)).catch((err: Error) => this.close(`keep-alive failed: ${err.message}`));
      this.keepAlive?.refresh();
    }, every);
    this.keepAlive.unref();
  }

  private onData(chunk: Buffer): void {
    if (!this.cipher) {
      this.onFrameEvents(this.parser.push(chunk));
      return;
    }
    if (this.plainSniffer) {
      // Before the first decrypted frame, `Busy!` may come in plain text (a second client is refused unencrypted).
      if (this.plainSniffer.push(chunk).some((e) => e.type === 'busy')) { this.onFrameEvents([{ type: 'busy' }]); return; }
    }
    const { frames, errors } = this.cipher.unwrap(chunk);
    for (const e of errors) this.reportFrameError(e);
    if (frames.length > 0) this.plainSniffer = undefined;
    for (const f of frames) this.onFrameEvents(this.parser.push(f));
    if (errors.some((e) => e.reason.includes('out of sync'))) {
      this.close('encrypted stream out of sync: wrong integration key, or the module does not encrypt');
    }
  }

  private onFrameEvents(events: FrameEvent[]): void {
    let crcError: FrameError | undefined;
    for (const ev of events) {
      if (ev.type === 'error') {
        this.reportFrameError(ev);
        if (ev.code === 'E_SATEL_CRC') crcError = ev;
        continue;
      }
      const p = this.pending;
      if (ev.type === 'busy') {
        if (!this.answered) {
          // Busy before any answer on this link: the module serves another client (it closes us next).
          this.close('module refused the link with Busy!: another integration client is connected');
        } else if (p) {
          this.settle(p, undefined, new StamError('E_SATEL_BUSY', `module answered ${cmdName(p.msg.cmd)} with Busy! (another client, or a command sent too early)`));
        } else {
          this.reportFrameError({ code: 'E_SATEL_FRAME', reason: 'unsolicited Busy!', bytes: 7 });
        }
        continue;
      }
      this.framesIn++;
      framesIn.inc();
      const msg: Message = { cmd: ev.cmd, data: ev.data };
      if (p && (ev.cmd === p.msg.cmd || ev.cmd === Cmd.result)) {
        this.answered = true;
        this.settle(p, msg);
      } else {
        this.emit('unsolicited', msg);
      }
    }
    // A whole frame arrived broken while we wait: that was the answer. Fail now rather than at the timeout.
    const p = this.pending;
    if (crcError && p) this.settle(p, undefined, new StamError('E_SATEL_CRC', `answer to ${cmdName(p.msg.cmd)} rejected: ${crcError.reason}`));
  }

  private reportFrameError(e: FrameError): void {
    m.frameErrors.inc({ code: e.code });
    this.emit('frameError', e);
  }

  /** Ends the request in flight and sends the next one waiting (on a closed link, they all fail). */
  private settle(p: Pending, msg?: Message, err?: Error): void {
    this.pending = undefined;
    if (err) {
      p.reject(err);
    } else {
      m.requestSeconds.observe((performance.now() - p.sentAt) / 1000);
      p.resolve(msg!);
    }
    const next = this.waiting.shift();
    if (!next) return;
    if (this.closedReason !== undefined) next.reject(new StamError('E_SATEL_LINK', this.closedReason));
    else this.send(next);
  }

  private fail(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    clearTimeout(this.keepAlive);
    clearTimeout(this.answerTimer);
    if (this.pending) this.settle(this.pending, undefined, new StamError('E_SATEL_LINK', reason));
    for (const w of this.waiting.splice(0)) w.reject(new StamError('E_SATEL_LINK', reason));
    this.emit('close', reason);
  }
}
