/**
 * The vocabulary shared by the control API, scenario files and the rate generator: one named action on
 * one panel. State actions write event-log records and get a trace; link actions steer fault injection.
 */
import { randomUUID } from 'node:crypto';
import { counter } from '../platform/metrics.ts';
import type { LogRecord, Trace } from './event-log.ts';
import { TROUBLE_NAMES, type TroubleName } from './models.ts';
import type { PanelCore, TroubleRef } from './panel-core.ts';
import type { TraceRing } from './traces.ts';

export const ACTIONS = [
  'violate', 'restore', 'alarm', 'fire', 'tamper',
  'arm', 'force-arm', 'disarm', 'clear-alarm',
  'raise-trouble', 'clear-trouble', 'power-loss', 'power-restore',
  'output-on', 'output-off',
  'link-drop', 'link-hang', 'link-busy', 'link-corrupt', 'link-delay', 'link-ignore', 'link-restore',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Which parameter each action needs (partition defaults to 1, count to 1, mode to 0). */
export const ACTION_NEEDS: Readonly<Record<Action, 'zone' | 'trouble' | 'output' | 'ms' | 'cmd' | undefined>> = {
  violate: 'zone', restore: 'zone', alarm: 'zone', fire: 'zone', tamper: 'zone',
  arm: undefined, 'force-arm': undefined, disarm: undefined, 'clear-alarm': undefined,
  'raise-trouble': 'trouble', 'clear-trouble': 'trouble', 'power-loss': undefined, 'power-restore': undefined,
  'output-on': 'output', 'output-off': 'output',
  'link-drop': undefined, 'link-hang': undefined, 'link-busy': undefined, 'link-corrupt': undefined, 'link-delay': 'ms',
  'link-ignore': 'cmd', 'link-restore': undefined,
};

export type ActionParams = {
  zone?: number;
  partition?: number;
  trouble?: string | number;
  output?: number;
  mode?: number;
  count?: number;
  ms?: number;
  /** link-ignore: the command code the panel stops answering. */
  cmd?: number;
};

/** Fault injection on a panel's TCP link (implemented by the server). */
export type LinkControl = {
  /** Close the current client connection now. */
  drop(): void;
  /** Stop answering (bytes are read and ignored) until restore(). */
  hang(): void;
  /** Answer the next `count` commands with `Busy!\r\n`. */
  busy(count: number): void;
  /** Send the next `count` answers with a broken CRC. */
  corrupt(count: number): void;
  /** Delay every answer by `ms`. */
  delay(ms: number): void;
  /** Leave command `cmd` unanswered from now on, as a module that does not know it (until restore()). */
  ignore(cmd: number): void;
  /** Clear all faults. */
  restore(): void;
};

export type ActionResult = {
  panel: number;
  action: Action;
  zone?: number;
  partition?: number;
  trouble?: string | number;
  output?: number;
  /** Set when the action wrote an event-log record; the trace is attached to it. */
  logIndex?: number;
  /** Result code for arm/disarm/clear (0 = ok, 0x11 = violated zones …). */
  result?: number;
  trace: Trace;
};

export type ActionContext = {
  panelCount: number;
  panel(n: number): PanelCore;
  link(n: number): LinkControl;
  traces: TraceRing;
};

const generated = counter('stam_simulator_generated_events_total', 'Events the simulator generated on request (API, scenarios, rate)', ['action']);

class ActionError extends Error {
  readonly statusCode = 400;
}

let lastSentAt = 0;

/** A new trace; send times never go backwards, so the trace ring stays ordered. */
function newTrace(): Trace {
  lastSentAt = Math.max(Date.now(), lastSentAt);
  return { id: randomUUID(), sentAtMs: lastSentAt };
}

function parseTrouble(t: string | number | undefined): TroubleRef {
  if (typeof t === 'number') return t;
  if (t !== undefined && /^\d+$/.test(t)) return Number(t);
  if (t !== undefined && (TROUBLE_NAMES as string[]).includes(t)) return t as TroubleName;
  throw new ActionError(`trouble must be one of ${TROUBLE_NAMES.join(', ')} or a zone number, got ${String(t)}`);
}

function need<T>(value: T | undefined, what: string, action: Action): T {
  if (value === undefined) throw new ActionError(`action "${action}" needs ${what}`);
  return value;
}

/** Runs one action; throws ActionError (or RangeError from the model) on bad parameters. */
export function performAction(ctx: ActionContext, panelNo: number, action: Action, params: ActionParams = {}): ActionResult {
  if (!Number.isInteger(panelNo) || panelNo < 1 || panelNo > ctx.panelCount) {
    throw new ActionError(`panel ${String(panelNo)} outside 1..${ctx.panelCount}`);
  }
  const panel = ctx.panel(panelNo);
  const trace = newTrace();
  const partition = params.partition ?? 1;
  const out: ActionResult = { panel: panelNo, action, trace };
  // The first record the action writes carries the trace.
  const records: LogRecord[] = [];
  const unsubscribe = panel.onRecord((rec) => records.push(rec));
  const zone = (): number => (out.zone = need(params.zone, 'a zone', action));
  try {
    switch (action) {
      case 'violate': panel.violateZone(zone(), trace); break;
      case 'restore': panel.restoreZone(zone(), trace); break;
      case 'alarm': panel.alarmZone(zone(), trace); break;
      case 'fire': panel.fireZone(zone(), trace); break;
      case 'tamper': panel.tamperZone(zone(), trace); break;
      case 'arm':
      case 'force-arm':
        out.partition = partition;
        out.result = panel.arm([partition], { mode: params.mode ?? 0, force: action === 'force-arm' }, trace);
        break;
      case 'disarm': out.partition = partition; out.result = panel.disarm([partition], 1, trace); break;
      case 'clear-alarm': out.partition = partition; out.result = panel.clearAlarm([partition], 1, trace); break;
      case 'raise-trouble':
      case 'clear-trouble': {
        const t = parseTrouble(params.trouble);
        out.trouble = t;
        if (action === 'raise-trouble') panel.raiseTrouble(t, trace);
        else panel.clearTrouble(t, trace);
        break;
      }
      case 'power-loss': out.trouble = 'ac'; panel.raiseTrouble('ac', trace); break;
      case 'power-restore': out.trouble = 'ac'; panel.clearTrouble('ac', trace); break;
      case 'output-on':
      case 'output-off':
        out.output = need(params.output, 'an output', action);
        if (out.output < 1 || out.output > panel.outputs) throw new ActionError(`output ${out.output} outside 1..${panel.outputs}`);
        panel.setOutputs([out.output], action === 'output-on', 1, trace);
        break;
      case 'link-drop': ctx.link(panelNo).drop(); break;
      case 'link-hang': ctx.link(panelNo).hang(); break;
      case 'link-busy': ctx.link(panelNo).busy(params.count ?? 1); break;
      case 'link-corrupt': ctx.link(panelNo).corrupt(params.count ?? 1); break;
      case 'link-delay': ctx.link(panelNo).delay(need(params.ms, 'ms', action)); break;
      case 'link-ignore': ctx.link(panelNo).ignore(need(params.cmd, 'cmd', action)); break;
      case 'link-restore': ctx.link(panelNo).restore(); break;
    }
  } catch (err) {
    if (err instanceof RangeError) throw new ActionError(err.message);
    throw err;
  } finally {
    unsubscribe();
  }
  const first = records[0];
  if (first) {
    generated.inc({ action });
    out.logIndex = first.index;
    ctx.traces.add({
      panel: panelNo, action, logIndex: first.index, trace,
      ...(out.zone !== undefined ? { zone: out.zone } : {}),
      ...(out.partition !== undefined ? { partition: out.partition } : {}),
      ...(out.trouble !== undefined ? { trouble: out.trouble } : {}),
    });
  }
  return out;
}
