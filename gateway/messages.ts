import type { AlarmUpdate, CommandResult } from '../schemas/index.ts';

/**
 * What the gateway pushes over `/ws`. Every message carries the stream's epoch and a position. Alarm
 * messages carry their own position (the offset in `alarm.updates.v1`); the others carry the position
 * the client has reached when they are sent, so a client may always resume from the last position it saw.
 */
export interface AlarmMessage { type: 'alarm.new' | 'alarm.updated'; epoch: string; position: number; alarm: AlarmUpdate }
export interface PanelStateMessage {
  type: 'panel.state'; epoch: string; position: number; panel_id: number; object_id: number;
  state: unknown; link: string | null; last_seen: number | null;
}
export interface CommandResultMessage { type: 'command.result'; epoch: string; position: number; object_id: number; result: CommandResult }
export type StreamMessage = AlarmMessage | PanelStateMessage | CommandResultMessage;

/** A position that carried nothing deliverable; sessions see it (so they can tell a gap from a skip), clients never do. */
export interface SkipMessage { type: 'skip'; epoch: string; position: number }
export type StreamEvent = StreamMessage | SkipMessage;

/** One recorded position: an alarm message, or null for a position that carried nothing deliverable. */
export interface Recorded { position: number; msg: AlarmMessage | null }

export const isAlarmMessage = (m: StreamEvent): m is AlarmMessage => m.type === 'alarm.new' || m.type === 'alarm.updated';
