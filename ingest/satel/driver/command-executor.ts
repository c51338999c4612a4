/**
 * One arm/disarm/output command on a panel, as the integration protocol does it: the control frame with
 * the user code, the panel's 0xEF answer mapped to a clear result, then the state read back to confirm.
 * Over an injected `request` (one link, one command at a time), so it runs against the simulator's panel
 * model in unit tests. The user code goes into the frame and nowhere else.
 */
import type { CommandAction, CommandParams } from '../../../commands/index.ts';
import type { CommandStatus } from '../../../schemas/index.ts';
import { Cmd, decodeBitmapState, decodeResult, describeResult, encodeArm, encodeClearAlarm, encodeDisarm, encodeOutputsOff, encodeOutputsOn, encodeStateQuery, hex, ResultCode, type Message, type UserCode } from '../protocol/index.ts';
import type { PanelRequest } from './command-gate.ts';

interface CommandSpec { action: CommandAction; params: CommandParams }
export interface Outcome { status: CommandStatus; reason: string; panelResultCode: number | null }

/** The panel's refusal in words an operator acts on. */
function describeRefusal(code: number): string {
  switch (code) {
    case ResultCode.userCodeNotFound: return 'wrong user code: the panel does not know the stored user code';
    case ResultCode.noAccess: return 'no access: the user code may not control these partitions or outputs';
    case ResultCode.userDoesNotExist: return 'wrong user code: the user does not exist';
    case ResultCode.wrongCodeOrCodeExists: return 'wrong user code';
    case ResultCode.cannotArmForceArmPossible: return 'cannot arm: zones violated (force arm possible)';
    case ResultCode.cannotArm: return 'cannot arm (troubles or blocked partitions; force arm not possible)';
    case ResultCode.otherError: return 'the panel refused the command (other error)';
    default: return `the panel refused the command: ${describeResult(code)}`;
  }
}

const list = (ns: number[]) => ns.join(', ');
const extendedFor = (outputs: number[]) => outputs.some((o) => o > 128);

function controlFrame(spec: CommandSpec, code: UserCode): Message {
  const p = spec.params;
  switch (spec.action) {
    case 'arm': return encodeArm(p.mode ?? 0, code, p.partitions ?? []);
    case 'force_arm': return encodeArm(p.mode ?? 0, code, p.partitions ?? [], { force: true });
    case 'disarm': return encodeDisarm(code, p.partitions ?? []);
    case 'clear_alarm': return encodeClearAlarm(code, p.partitions ?? []);
    case 'outputs_on': return encodeOutputsOn(code, p.outputs ?? [], { extended: extendedFor(p.outputs ?? []) });
    case 'outputs_off': return encodeOutputsOff(code, p.outputs ?? [], { extended: extendedFor(p.outputs ?? []) });
  }
}

async function bitmap(request: PanelRequest, cmd: number, extended = false): Promise<Set<number>> {
  return new Set(decodeBitmapState(await request(encodeStateQuery(cmd, { extended }))).active);
}

/** Reads back what the command should have changed: `done` when the panel shows it, with words for both cases. */
async function readBack(request: PanelRequest, spec: CommandSpec): Promise<{ done: boolean; text: string }> {
  const parts = spec.params.partitions ?? [];
  const outs = spec.params.outputs ?? [];
  switch (spec.action) {
    case 'arm':
    case 'force_arm': {
      const armed = await bitmap(request, Cmd.armedPartitionsReally);
      const missing = parts.filter((p) => !armed.has(p));
      if (missing.length === 0) return { done: true, text: `partitions ${list(parts)} armed` };
      // Exit time running: armed (suppressed) or counting down, not yet armed for real.
      const [suppressed, exitLong, exitShort] = [await bitmap(request, Cmd.armedPartitionsSuppressed),
        await bitmap(request, Cmd.partitionsExitTimeOver10s), await bitmap(request, Cmd.partitionsExitTimeUnder10s)];
      const exiting = missing.filter((p) => suppressed.has(p) || exitLong.has(p) || exitShort.has(p));
      if (exiting.length === missing.length) return { done: true, text: `arming: exit time running for partitions ${list(exiting)}` };
      return { done: false, text: `partitions ${list(missing.filter((p) => !exiting.includes(p)))} not armed` };
    }
    case 'disarm': {
      const [armed, suppressed] = [await bitmap(request, Cmd.armedPartitionsReally), await bitmap(request, Cmd.armedPartitionsSuppressed)];
      const still = parts.filter((p) => armed.has(p) || suppressed.has(p));
      return still.length === 0 ? { done: true, text: `partitions ${list(parts)} disarmed` } : { done: false, text: `partitions ${list(still)} still armed` };
    }
    case 'clear_alarm': {
      const alarm = await bitmap(request, Cmd.partitionsAlarm);
      const still = parts.filter((p) => alarm.has(p));
      return still.length === 0 ? { done: true, text: `alarm cleared on partitions ${list(parts)}` } : { done: false, text: `partitions ${list(still)} still in alarm` };
    }
    case 'outputs_on':
    case 'outputs_off': {
      const on = await bitmap(request, Cmd.outputsState, extendedFor(outs));
      const want = spec.action === 'outputs_on';
      const wrong = outs.filter((o) => on.has(o) !== want);
      const state = want ? 'on' : 'off';
      return wrong.length === 0 ? { done: true, text: `outputs ${list(outs)} ${state}` } : { done: false, text: `outputs ${list(wrong)} not ${state}` };
    }
  }
}

const codeOf = (err: unknown): string => (err as { code?: string }).code ?? '';
const msgOf = (err: unknown): string => (err as Error).message;

interface ExecuteOptions {
  /** Read-back attempts after "accepted, will be processed" (0xFF) before giving up (default 4). */
  readBackTries?: number;
  readBackDelayMs?: number;
  /** Called just before the control frame goes out; throwing stops the command before it reaches the panel. */
  beforeSend?: () => void;
}

/**
 * Sends the command and confirms it. SUCCEEDED needs the panel's OK and (when the link allows) the state
 * read back; REJECTED carries the panel's refusal; FAILED says what went wrong and whether the panel may
 * have acted (a timeout after sending: outcome unknown, never repeated).
 */
export async function executeCommand(request: PanelRequest, spec: CommandSpec, code: UserCode, o: ExecuteOptions = {}): Promise<Outcome> {
  let frame: Message;
  try {
    frame = controlFrame(spec, code);
  } catch (err) {
    return { status: 'REJECTED', reason: `invalid parameters: ${msgOf(err)}`, panelResultCode: null };
  }
  o.beforeSend?.();
  let answer: Message;
  try {
    answer = await request(frame);
  } catch (err) {
    const c = codeOf(err);
    const sent = (err as { details?: { sent?: boolean } }).details?.sent !== false;
    if (!sent) return { status: 'FAILED', reason: msgOf(err), panelResultCode: null };
    if (c === 'E_SATEL_BUSY') return { status: 'FAILED', reason: 'the module answered Busy! (another client or a command too early): not executed', panelResultCode: null };
    if (c === 'E_SATEL_TIMEOUT') return { status: 'FAILED', reason: `the panel did not answer: ${msgOf(err)}; outcome unknown, not repeated`, panelResultCode: null };
    return { status: 'FAILED', reason: `link lost before the panel answered (${msgOf(err)}); outcome unknown, not repeated`, panelResultCode: null };
  }
  let result;
  try {
    result = decodeResult(answer);
  } catch (err) {
    return { status: 'FAILED', reason: `unexpected answer from the panel: ${msgOf(err)}; outcome unknown, not repeated`, panelResultCode: null };
  }
  if (!result.ok) return { status: 'REJECTED', reason: `${describeRefusal(result.code)} (panel result ${hex(result.code)})`, panelResultCode: result.code };
  const tries = result.code === ResultCode.acceptedWillBeProcessed ? (o.readBackTries ?? 4) : 1;
  let last = '';
  for (let i = 0; i < tries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, o.readBackDelayMs ?? 250));
    try {
      const rb = await readBack(request, spec);
      if (rb.done) return { status: 'SUCCEEDED', reason: rb.text, panelResultCode: result.code };
      last = rb.text;
    } catch (err) {
      return { status: 'SUCCEEDED', reason: `accepted by the panel (${result.text}); not confirmed, read-back failed: ${msgOf(err)}`, panelResultCode: result.code };
    }
  }
  return { status: 'FAILED', reason: `the panel accepted the command (${result.text}) but the read-back shows ${last}`, panelResultCode: result.code };
}

/**
 * A command some driver took and never answered (it died, or the broker redelivered it): it is NOT sent
 * again. The read-back says whether the panel is in the wanted state now.
 */
export async function settleInterrupted(request: PanelRequest, spec: CommandSpec): Promise<Outcome> {
  try {
    const rb = await readBack(request, spec);
    return rb.done
      ? { status: 'SUCCEEDED', reason: `${rb.text} (confirmed by read-back after the executing driver was interrupted; not repeated)`, panelResultCode: null }
      : { status: 'FAILED', reason: `interrupted before the panel confirmed; not repeated (read-back: ${rb.text})`, panelResultCode: null };
  } catch (err) {
    return { status: 'FAILED', reason: `interrupted; outcome unknown, not repeated (read-back impossible: ${msgOf(err)})`, panelResultCode: null };
  }
}
