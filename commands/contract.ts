/**
 * The arm/disarm command contract on RabbitMQ, shared by the publishing side (gateway) and the consuming
 * side (the Satel driver holding the panel's lease). Pure: names, the message, its validation, its deadline.
 *
 *   exchange `commands` (topic, durable, alternate exchange `commands.unroutable`)
 *     routing key `panel.{id}` → queue `commands.driver.{driverId}` of the driver holding panel {id}'s lease
 *     (durable; dead-letters to `commands.dlx`; quorum with at-least-once dead-lettering in production)
 *   exchange `commands.unroutable` (fanout) → queue `commands.unroutable`: no driver holds the panel. The
 *     message keeps its expiration there, so the queue dead-letters it to `commands.dlx` rather than lose it.
 *   exchange `commands.dlx` (fanout) → queue `commands.dead`: commands that expired in a queue or were refused
 *     by a driver (dead-lettering drops the expiration: they wait for their answer).
 *   Both are answered `EXPIRED` by the dead-letter consumer, unless the execution ledger already holds an answer.
 *
 * A message is persistent, published with publisher confirms, carries the command id as `messageId`, a
 * per-message `expiration` (the broker drops it when it waits too long) and the `x-deadline` header (epoch
 * ms) that the consumer checks itself: classic queues only expire messages at the queue head, and a
 * delivered-but-queued command must not run late either. The user code is never in a message.
 */
import { StamError } from '../platform/errors.ts';
import type { CommandResult, CommandStatus, Trace } from '../schemas/index.ts';

export const COMMANDS_EXCHANGE = 'commands';
export const COMMANDS_DLX = 'commands.dlx';
export const COMMANDS_DEAD_QUEUE = 'commands.dead';
export const COMMANDS_UNROUTABLE = 'commands.unroutable';
export const driverQueueName = (driverId: string): string => `commands.driver.${driverId}`;
export const routingKeyFor = (panelId: number): string => `panel.${panelId}`;

export const COMMAND_HEADERS = {
  commandId: 'x-command-id',
  panelId: 'x-panel-id',
  /** Epoch ms after which the command must not be executed. */
  deadline: 'x-deadline',
  /** How often a driver that does not hold the panel handed the command back to the exchange. */
  forwards: 'x-forwards',
} as const;

/**
 * `command.results.v1` carries two stages, told apart by this header: `reported` (a driver, the
 * dead-letter consumer: one claim per delivery, possibly repeated) and `final` (the terminal state the
 * command processor recorded, relayed from the outbox: what operators are shown).
 */
export const RESULT_STAGE_HEADER = 'x-result-stage';
export type ResultStage = 'reported' | 'final';

export const COMMAND_ACTIONS = ['arm', 'force_arm', 'disarm', 'clear_alarm', 'outputs_on', 'outputs_off'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];
export const isCommandAction = (s: unknown): s is CommandAction => (COMMAND_ACTIONS as readonly unknown[]).includes(s);

export interface CommandParams {
  /** Arm mode 0–3 (arm and force_arm; default 0). */
  mode?: 0 | 1 | 2 | 3;
  /** Partitions 1–32 (arm, force_arm, disarm, clear_alarm). */
  partitions?: number[];
  /** Outputs 1–256 (outputs_on, outputs_off). */
  outputs?: number[];
}

export interface CommandMessage {
  v: 1;
  command_id: string;
  panel_id: number;
  action: CommandAction;
  params: CommandParams;
  requested_by: { id: number; username: string };
  /** Epoch ms. */
  created_at: number;
  expires_at: number;
  trace: Trace | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isCommandId = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

const uniqueIn = (list: unknown, max: number): list is number[] =>
  Array.isArray(list) && list.length > 0 && list.length <= max && new Set(list).size === list.length
  && list.every((n) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max);

/** Why these parameters do not fit the action, or null when they do. */
export function paramsProblem(action: CommandAction, p: CommandParams): string | null {
  const needsPartitions = action === 'arm' || action === 'force_arm' || action === 'disarm' || action === 'clear_alarm';
  if (needsPartitions) {
    if (!uniqueIn(p.partitions, 32)) return `${action} needs partitions: distinct numbers 1–32`;
    if (p.outputs !== undefined) return `${action} takes no outputs`;
  } else {
    if (!uniqueIn(p.outputs, 256)) return `${action} needs outputs: distinct numbers 1–256`;
    if (p.partitions !== undefined) return `${action} takes no partitions`;
  }
  if (p.mode !== undefined) {
    if (action !== 'arm' && action !== 'force_arm') return `${action} takes no mode`;
    if (![0, 1, 2, 3].includes(p.mode)) return 'mode must be 0–3';
  }
  return null;
}

/** Only the fields an action uses, in a stable order (what is stored and sent). */
export function normalizeParams(action: CommandAction, p: CommandParams): CommandParams {
  if (action === 'outputs_on' || action === 'outputs_off') return { outputs: [...(p.outputs ?? [])].sort((a, b) => a - b) };
  const partitions = [...(p.partitions ?? [])].sort((a, b) => a - b);
  return action === 'arm' || action === 'force_arm' ? { mode: p.mode ?? 0, partitions } : { partitions };
}

export interface EncodedCommand {
  routingKey: string;
  content: Buffer;
  options: {
    persistent: true; messageId: string; contentType: 'application/json'; timestamp: number; expiration: string;
    headers: Record<string, string | number>;
  };
}

/** The message as published; `expiration` is what is left of the command's lifetime at `nowMs` (at least 1 ms). */
export function encodeCommand(cmd: CommandMessage, nowMs: number, forwards = 0): EncodedCommand {
  return {
    routingKey: routingKeyFor(cmd.panel_id),
    content: Buffer.from(JSON.stringify(cmd)),
    options: {
      persistent: true, messageId: cmd.command_id, contentType: 'application/json', timestamp: Math.floor(nowMs / 1000),
      expiration: String(Math.max(1, Math.ceil(cmd.expires_at - nowMs))),
      headers: {
        [COMMAND_HEADERS.commandId]: cmd.command_id, [COMMAND_HEADERS.panelId]: cmd.panel_id,
        [COMMAND_HEADERS.deadline]: cmd.expires_at, [COMMAND_HEADERS.forwards]: forwards,
      },
    },
  };
}

const invalid = (why: string) => new StamError('E_COMMAND_INVALID', `command message rejected: ${why}`);

/** Parses and validates a delivered command; throws E_COMMAND_INVALID naming what is wrong (never echoing the body). */
export function parseCommand(content: Buffer): CommandMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(content.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw invalid('not an object');
  const m = raw as Record<string, unknown>;
  if (m.v !== 1) throw invalid(`unknown version ${String(m.v)}`);
  if (!isCommandId(m.command_id)) throw invalid('command_id is not a UUID');
  if (!Number.isSafeInteger(m.panel_id) || (m.panel_id as number) < 1) throw invalid('panel_id is not a positive integer');
  if (!isCommandAction(m.action)) throw invalid('unknown action');
  for (const k of ['created_at', 'expires_at'] as const) if (!Number.isFinite(m[k])) throw invalid(`${k} is not a number`);
  const by = m.requested_by as { id?: unknown; username?: unknown } | null | undefined;
  if (!by || !Number.isSafeInteger(by.id) || typeof by.username !== 'string') throw invalid('requested_by is missing');
  const params = (m.params ?? {}) as CommandParams;
  const problem = paramsProblem(m.action, params);
  if (problem) throw invalid(problem);
  const trace = (m.trace ?? null) as Trace | null;
  return {
    v: 1, command_id: m.command_id, panel_id: m.panel_id as number, action: m.action, params: normalizeParams(m.action, params),
    requested_by: { id: by.id as number, username: by.username }, created_at: m.created_at as number, expires_at: m.expires_at as number, trace,
  };
}

/** The deadline to enforce: the earlier of the header and the body (a header can only shorten the lifetime). */
export function deadlineOf(cmd: CommandMessage, headers: Record<string, unknown> | undefined): number {
  const h = Number(headers?.[COMMAND_HEADERS.deadline]);
  return Number.isFinite(h) ? Math.min(h, cmd.expires_at) : cmd.expires_at;
}

export const forwardsOf = (headers: Record<string, unknown> | undefined): number => {
  const n = Number(headers?.[COMMAND_HEADERS.forwards] ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
};

export function commandResult(
  cmd: Pick<CommandMessage, 'command_id' | 'panel_id' | 'action' | 'trace'>, status: CommandStatus, reason: string, panelResultCode: number | null = null,
  finishedAt = Date.now(),
): CommandResult {
  return {
    command_id: cmd.command_id, panel_id: cmd.panel_id, action: cmd.action, status, reason, panel_result_code: panelResultCode,
    finished_at: finishedAt, trace: cmd.trace,
  };
}
