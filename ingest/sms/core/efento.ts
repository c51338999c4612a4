/**
 * Efento Cloud alert webhooks (docs.efento.io, "Alert webhooks"): a JSON POST when a rule activates and
 * again when it deactivates (`neutralizedAt` set), answered with 201. The same path as an SMS: an SmsEvent
 * whose raw text is the body exactly as received. Rule types are mapped by what they name (measurement
 * thresholds on TEMPERATURE, low battery, lost connection); anything else is UNCLASSIFIED, so an operator
 * reads it. The payload carries no measured value: value and threshold stay empty.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { SmsEvent, SmsEventKind } from '../../../schemas/index.ts';
import type { SensorDirectory } from './directory.ts';
import { eventIdOf } from './interpret.ts';

/** The sender of webhook events, and the `sender` of sensors reached through Efento Cloud. */
export const EFENTO_CLOUD_SENDER = 'efento-cloud';

const Text = Type.String({ maxLength: 500 });
/** The documented fields; more may come (kept in the raw text). */
export const EfentoAlertSchema = Type.Object({
  createdAt: Type.String({ minLength: 1, maxLength: 40, description: '"2023-04-25 09:07:00" (UTC)' }),
  neutralizedAt: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  organizationName: Type.Optional(Text),
  locationName: Type.Optional(Text),
  ruleName: Type.Optional(Text),
  ruleCondition: Type.Optional(Type.Union([Text, Type.Null()])),
  ruleParameters: Type.Optional(Type.Union([Type.Array(Text, { maxItems: 50 }), Type.Null()])),
  ruleType: Type.Optional(Type.Union([Text, Type.Null()])),
}, { additionalProperties: true });
export type EfentoAlert = Static<typeof EfentoAlertSchema>;

/** "2023-04-25 09:07:00" or ISO-8601 → epoch ms (a time without a zone is UTC); null when unreadable. */
function cloudTime(s: string | null | undefined): number | null {
  if (!s) return null;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(s.trim()) ? `${s.trim().replace(' ', 'T')}Z` : s.trim();
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

function kindOf(a: EfentoAlert, restored: boolean): SmsEventKind {
  const type = (a.ruleType ?? '').toUpperCase();
  const params = (a.ruleParameters ?? []).map((p) => p.toUpperCase());
  if (/BATTERY|POWER/.test(type) || params.includes('BATTERY')) return restored ? 'BATTERY_RESTORED' : 'LOW_BATTERY';
  if (/CONNECTION|LOST|OFFLINE|NO_MEASUREMENT/.test(type)) return restored ? 'CONNECTION_RESTORED' : 'CONNECTION_LOST';
  if (params.includes('TEMPERATURE')) return restored ? 'TEMPERATURE_RESTORE' : 'TEMPERATURE_ALARM';
  return 'UNCLASSIFIED';
}

/** The SmsEvent of one webhook call. Retries of the same call (same rule, location and times) share its dedup_key. */
export function efentoAlertEvent(alert: EfentoAlert, rawBody: string, directory: SensorDirectory, receivedAtMs: number): SmsEvent {
  const restored = alert.neutralizedAt !== null && alert.neutralizedAt !== undefined && alert.neutralizedAt !== '';
  const kind = kindOf(alert, restored);
  const identity = [alert.organizationName, alert.locationName, alert.ruleName, alert.ruleType, alert.createdAt, restored ? alert.neutralizedAt : ''].map((x) => x ?? '').join('\u0000');
  const dedupKey = `efento:${createHash('sha256').update(identity).digest('hex').slice(0, 40)}`;
  const r = directory.resolve({ sender: EFENTO_CLOUD_SENDER, name: alert.locationName ?? null, vendor: 'efento' });
  const condition = (alert.ruleCondition ?? '').toUpperCase();
  const at = cloudTime(restored ? alert.neutralizedAt : alert.createdAt);
  return {
    event_id: eventIdOf(dedupKey), sensor_id: r.sensorId, sender: EFENTO_CLOUD_SENDER, kind, value: null, unit: null, threshold: null,
    raw_text: rawBody, sensor_time: at, observed_at: receivedAtMs, dedup_key: dedupKey, trace: null,
    direction: kind === 'TEMPERATURE_ALARM' ? (/MORE|ABOVE|GREATER/.test(condition) ? 'HIGH' : /LESS|BELOW|LOWER/.test(condition) ? 'LOW' : null) : null,
    template: 'efento-webhook', smsc_time: null, partial: false,
  };
}
