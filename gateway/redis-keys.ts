// Every Redis key the gateway reads or writes (under the client's key prefix), each named once here.
// Panel live state (`panel:{id}:state`, written by the driver) is named in platform/redis.ts: panelStateKey.

/** Recent stream positions for resuming clients (sorted set, score = position). */
export const BUFFER_KEY = 'ws:events:buffer';
/** The stream's epoch: a new one when alarm.updates.v1 restarts below the recorded history. */
export const EPOCH_KEY = 'ws:epoch';
/** A single-use WebSocket ticket. */
export const ticketKey = (ticket: string): string => `ws:ticket:${ticket}`;
/** WebSocket tickets one user took in one minute (the minute since epoch). */
export const ticketCountKey = (userId: number, minute: number): string => `ws:tickets:${userId}:${minute}`;
/** Recorder passwords one user revealed in one hour (the hour since epoch). */
export const revealCountKey = (userId: number, hour: number): string => `reveal:${userId}:${hour}`;
/** Failed logins from one client address within the throttle window. */
export const loginFailuresKey = (ip: string): string => `login:fail:${ip}`;
/** A passkey ceremony's challenge (registration: per user; login: per challenge id), single use, short-lived. */
export const passkeyChallengeKey = (id: string): string => `passkey:challenge:${id}`;
