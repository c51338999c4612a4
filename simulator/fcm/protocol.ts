/**
 * What FCM's HTTP v1 API says, as the fake says it: the error bodies of `messages:send` (the shapes
 * firebase-admin maps to its error codes: an FcmError detail for token problems and quotas, a
 * google.rpc.BadRequest detail for a bad payload), and the checks FCM makes of a message. Pure.
 */

/** How the fake answers sends to one token. */
export type Answer = 'ok' | 'unregistered' | 'invalid' | 'quota' | 'unavailable' | 'internal' | 'sender_mismatch';

export const ANSWERS: readonly Answer[] = ['ok', 'unregistered', 'invalid', 'quota', 'unavailable', 'internal', 'sender_mismatch'];

export interface Reply { status: number; body: unknown; headers?: Record<string, string> }

const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';

const fcmError = (code: number, status: string, message: string, errorCode: string): Reply => ({
  status: code, body: { error: { code, message, status, details: [{ '@type': FCM_ERROR, errorCode }] } },
});

/** The reply FCM gives for `answer` (not `ok`). */
export function errorReply(answer: Exclude<Answer, 'ok'>, retryAfterS?: number): Reply {
  const retry = retryAfterS === undefined ? undefined : { 'retry-after': String(retryAfterS) };
  switch (answer) {
    case 'unregistered': return fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    case 'invalid': return fcmError(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token', 'INVALID_ARGUMENT');
    case 'sender_mismatch': return fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
    case 'quota': return { ...fcmError(429, 'RESOURCE_EXHAUSTED', "Quota exceeded for quota metric 'Messages' of service 'fcm.googleapis.com'.", 'QUOTA_EXCEEDED'), headers: retry ?? { 'retry-after': '60' } };
    case 'unavailable': return { ...fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'), ...(retry ? { headers: retry } : {}) };
    case 'internal': return fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL');
  }
}

export const unauthenticated = (): Reply => ({
  status: 401,
  body: { error: { code: 401, message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', status: 'UNAUTHENTICATED' } },
});

export const permissionDenied = (project: string): Reply => ({
  status: 403, body: { error: { code: 403, message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}'`, status: 'PERMISSION_DENIED' } },
});

/** A payload FCM refuses: 400 with a BadRequest detail naming the field (never a token problem). */
export function badRequest(field: string, description: string): Reply {
  return {
    status: 400,
    body: { error: { code: 400, message: `Invalid value at '${field}': ${description}`, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description }] }] } },
  };
}

/** The message of a send as the fake reads it. */
export interface SentMessage {
  token: string;
  notification?: { title?: string; body?: string };
  data?: Record<string, string>;
  android?: { collapse_key?: string; priority?: string; ttl?: string; notification?: { tag?: string; channel_id?: string } };
  apns?: { headers?: Record<string, string> };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** FCM's checks of a `messages:send` body: the message, or the 400 it answers. */
export function readSend(body: unknown): { message: SentMessage; validateOnly: boolean } | { reply: Reply } {
  if (!isObject(body) || !isObject(body.message)) return { reply: badRequest('message', 'Required') };
  const m = body.message;
  if (typeof m.token !== 'string' || m.token.length === 0) {
    return { reply: badRequest('message', 'exactly one of token, topic or condition must be set') };
  }
  if (m.data !== undefined) {
    if (!isObject(m.data)) return { reply: badRequest('message.data', 'must be a map of strings') };
    for (const [k, v] of Object.entries(m.data)) if (typeof v !== 'string') return { reply: badRequest(`message.data[${k}]`, 'Invalid value, expected a string') };
  }
  if (m.android !== undefined) {
    if (!isObject(m.android)) return { reply: badRequest('message.android', 'must be an object') };
    const a = m.android;
    if (a.priority !== undefined && a.priority !== 'normal' && a.priority !== 'high') return { reply: badRequest('message.android.priority', `Invalid value ${JSON.stringify(a.priority)}`) };
    if (a.ttl !== undefined && (typeof a.ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(a.ttl))) return { reply: badRequest('message.android.ttl', 'Illegal duration format') };
    if (a.collapse_key !== undefined && typeof a.collapse_key !== 'string') return { reply: badRequest('message.android.collapse_key', 'must be a string') };
  }
  return { message: m as unknown as SentMessage, validateOnly: body.validate_only === true };
}
