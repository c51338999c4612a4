import { describe, expect, it } from 'vitest';
import { createBreaker } from './breaker.ts';

function setup() {
  let t = 0;
  const changes: string[] = [];
  const breaker = createBreaker({ failures: 3, openMs: 30_000, timeoutMs: 50, now: () => t, onChange: (s) => changes.push(s) });
  let calls = 0;
  let healthy = false;
  const primary = () => { calls++; return healthy ? Promise.resolve('live') : Promise.reject(new Error('redis down')); };
  const fallback = (e: Error) => Promise.resolve(`stale (${e.message})`);
  return {
    breaker, changes, call: () => breaker.call(primary, fallback),
    advance: (ms: number) => { t += ms; }, heal: () => { healthy = true; }, get calls() { return calls; },
  };
}

describe('circuit breaker', () => {
  it('serves the fallback on each failure and opens after three in a row', async () => {
    const s = setup();
    expect(await s.call()).toBe('stale (redis down)');
    expect(await s.call()).toBe('stale (redis down)');
    expect(s.breaker.state).toBe('closed');
    await s.call();
    expect(s.breaker.state).toBe('open');
    // Open: the dependency is not called at all.
    expect(await s.call()).toBe('stale (circuit open)');
    expect(s.calls).toBe(3);
  });

  it('a success resets the count of consecutive failures', async () => {
    const s = setup();
    await s.call(); await s.call();
    s.heal();
    expect(await s.call()).toBe('live');
    expect(s.breaker.state).toBe('closed');
  });

  it('after 30 s one trial call goes through: success closes, failure re-opens for another 30 s', async () => {
    const s = setup();
    for (let i = 0; i < 3; i++) await s.call();
    s.advance(29_999);
    expect(await s.call()).toBe('stale (circuit open)');
    s.advance(1);
    expect(s.breaker.state).toBe('half-open');
    expect(await s.call()).toBe('stale (redis down)'); // the trial fails
    expect(s.breaker.state).toBe('open');
    expect(s.calls).toBe(4);
    s.advance(30_000);
    s.heal();
    expect(await s.call()).toBe('live');
    expect(s.breaker.state).toBe('closed');
    expect(s.changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('a call slower than the deadline counts as a failure', async () => {
    const b = createBreaker({ failures: 1, openMs: 1000, timeoutMs: 20 });
    const slow = () => new Promise<string>((r) => setTimeout(() => r('late'), 200));
    expect(await b.call(slow, (e) => Promise.resolve(e.message))).toBe('timed out after 20 ms');
    expect(b.state).toBe('open');
  });
});
