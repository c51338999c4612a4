import type { Severity } from './types.ts';
import { SEVERITIES } from './types.ts';

/**
 * Flood rule (after ISA-18.2): when an object already opened `threshold` alarms within `windowMs`, the
 * next ones are absorbed by one flood alarm for that object instead of burying operators.
 */
export interface FloodPolicy { threshold: number; windowMs: number }

/** Start times of the object's (non-flood) alarms → does a new alarm at `atMs` belong to a flood? */
export function isFlood(openedAtMs: readonly number[], atMs: number, policy: FloodPolicy): boolean {
  const from = atMs - policy.windowMs;
  let n = 0;
  for (const t of openedAtMs) if (t >= from && t <= atMs) n++;
  return n >= policy.threshold;
}

export function floodBundleKey(objectId: number): string {
  return `${objectId}|flood`;
}

/** The more severe of two severities (CRITICAL > WARNING > INFO). */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}
