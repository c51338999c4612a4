/**
 * What FCM's answer to one send means for the notifier, decided here and nowhere else (pure):
 * - `accepted`: FCM took it (its message name is recorded);
 * - `remove_token`: the token is unregistered or not a valid token: delete the device (audited);
 * - `quarantine`: the token belongs to another Firebase project: stop sending to it (audited);
 * - `retry`: quota, unavailable, internal, network: again later with backoff (at least `minWaitMs`);
 * - `rejected`: FCM refuses the message itself (payload, options): retrying cannot help;
 * - `credential`: our credential was refused: stop sending, alert, until it works again.
 */
export type SendDecision =
  | { kind: 'accepted'; name: string }
  | { kind: 'remove_token'; reason: string }
  | { kind: 'quarantine'; reason: string }
  | { kind: 'retry'; reason: string; quota: boolean }
  | { kind: 'rejected'; reason: string }
  | { kind: 'credential'; reason: string };

export interface SendResult { success: boolean; messageId?: string; error?: { code?: string; message?: string } }

const RETRY = new Set([
  'messaging/server-unavailable', 'messaging/internal-error', 'messaging/unknown-error', 'app/network-error', 'app/network-timeout',
  // Our credential failed to fetch a token for a reason that is not a refusal (checked before every send).
  'app/invalid-credential',
]);
const QUOTA = new Set(['messaging/message-rate-exceeded', 'messaging/device-message-rate-exceeded', 'messaging/topics-message-rate-exceeded']);
const REJECTED = new Set([
  'messaging/invalid-payload', 'messaging/payload-size-limit-exceeded', 'messaging/invalid-data-payload-key', 'messaging/invalid-options',
  'messaging/invalid-package-name', 'messaging/invalid-recipient',
]);
const CREDENTIAL = new Set(['messaging/third-party-auth-error', 'messaging/authentication-error']);

/** FCM says "not a valid FCM registration token" for a bad token; a bad payload is INVALID_ARGUMENT too, naming a field. */
const BAD_TOKEN = /registration token/i;
const PERMISSION = /permission\b.*\bdenied/i;

export function decide(r: SendResult): SendDecision {
  if (r.success) return { kind: 'accepted', name: r.messageId ?? '' };
  const code = r.error?.code ?? 'unknown';
  const reason = `${code}: ${(r.error?.message ?? '').slice(0, 300)}`;
  if (code === 'messaging/registration-token-not-registered' || code === 'messaging/invalid-registration-token') return { kind: 'remove_token', reason };
  if (code === 'messaging/invalid-argument') return BAD_TOKEN.test(r.error?.message ?? '') ? { kind: 'remove_token', reason } : { kind: 'rejected', reason };
  // PERMISSION_DENIED and SENDER_ID_MISMATCH both come as mismatched-credential: "permission … denied" is
  // our service account lacking the right for the project (every token would fail), not a foreign token.
  if (code === 'messaging/mismatched-credential') return PERMISSION.test(r.error?.message ?? '') ? { kind: 'credential', reason } : { kind: 'quarantine', reason };
  if (QUOTA.has(code)) return { kind: 'retry', reason, quota: true };
  if (CREDENTIAL.has(code)) return { kind: 'credential', reason };
  if (REJECTED.has(code)) return { kind: 'rejected', reason };
  if (RETRY.has(code)) return { kind: 'retry', reason, quota: false };
  // Unknown answers are retried until the deadline, then dead-lettered with this reason: never dropped.
  return { kind: 'retry', reason, quota: false };
}
