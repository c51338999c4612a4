/**
 * Alarm sounds: a distinct pattern per severity, repeated while a CRITICAL alarm waits unclaimed, muted per
 * user (the choice is kept in this browser). WebAudio tones, nothing to download.
 */
const PATTERNS: Record<string, number[]> = { CRITICAL: [880, 660, 880, 660], WARNING: [660, 520], INFO: [520] };
const REPEAT_MS = 5000;

let ctx: AudioContext | undefined;
let repeat: ReturnType<typeof setInterval> | undefined;

export const muteKey = (username: string) => `stam.mute.${username}`;
export const isMuted = (username: string): boolean => localStorage.getItem(muteKey(username)) === '1';
export function setMuted(username: string, muted: boolean): void {
  if (muted) localStorage.setItem(muteKey(username), '1'); else localStorage.removeItem(muteKey(username));
}

export function play(severity: string): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
    const t = ctx.currentTime;
    for (const [i, f] of (PATTERNS[severity] ?? PATTERNS.INFO!).entries()) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.frequency.value = f;
      g.gain.value = 0.2;
      o.connect(g).connect(ctx.destination);
      o.start(t + i * 0.22);
      o.stop(t + i * 0.22 + 0.18);
    }
  } catch { /* no audio device: the blinking row remains */ }
}

/** Keeps sounding CRITICAL every few seconds while `pending()` says an unclaimed one waits. */
export function repeatWhile(pending: () => boolean, muted: () => boolean): void {
  clearInterval(repeat);
  repeat = setInterval(() => { if (pending() && !muted()) play('CRITICAL'); }, REPEAT_MS);
}

export function stopRepeat(): void { clearInterval(repeat); }
