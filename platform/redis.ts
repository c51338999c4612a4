import { Redis } from 'ioredis';

export type { Redis };

/** A panel's live state (hash: `state` JSON, `link`, `last_seen` ms), written by its driver, read by the gateway. */
export const panelStateKey = (panelId: number): string => `panel:${panelId}:state`;

/**
 * The channel on which a Satel driver announces that a panel's live state (panelStateKey: state or
 * link) changed, message = the panel id; the gateway pushes the new state to operators. ioredis does not
 * prefix channel names, so both sides add the client's key prefix themselves (panelStateChannel).
 */
const PANEL_STATE_CHANNEL = 'panel:state:changed';
export const panelStateChannel = (redis: Redis): string => `${redis.options.keyPrefix ?? ''}${PANEL_STATE_CHANNEL}`;

/** ioredis with a key prefix (test isolation) and bounded reconnects; errors are reported, not thrown. */
export function createRedis(url: string, keyPrefix = '', onError?: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', (err: Error) => onError?.(err));
  return redis;
}
