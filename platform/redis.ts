import { Redis } from 'ioredis';

export type { Redis };

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
