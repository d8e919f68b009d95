/** The knobs of the poll schedule. */
export interface ScheduleOptions {
  interval: number;
  respectTtl: boolean;
  minInterval: number;
  maxInterval: number;
  jitter: number;
}

/**
 * Milliseconds until the next poll after a successful one: the answer's TTL clamped to
 * `[minInterval, maxInterval]` (or `interval` when TTLs are not followed), then spread
 * by ±`jitter` so that many watchers started together drift apart instead of polling
 * CoreDNS in lockstep. `random` is in [0, 1).
 *
 * @example
 * nextPollDelay(5, { interval: 5000, respectTtl: true, minInterval: 1000, maxInterval: 30000, jitter: 0.1 }, 0.5) // 5000
 */
export function nextPollDelay(ttlSeconds: number, options: ScheduleOptions, random: number): number {
  return withJitter(period(ttlSeconds, options), options.jitter, random);
}

/**
 * Milliseconds until the first poll after the first successful one: with jitter, a uniformly
 * random point of the whole period, so that watchers started together (many services in one
 * process, the pods of one rollout) are spread over the period from their second poll on;
 * ±`jitter` a poll alone would take them dozens of periods to drift apart, polling in bursts
 * meanwhile. Without jitter, the period itself.
 *
 * @example
 * firstRepeatDelay(5, { interval: 5000, respectTtl: true, minInterval: 1000, maxInterval: 30000, jitter: 0.1 }, 0.75) // 1250
 */
export function firstRepeatDelay(ttlSeconds: number, options: ScheduleOptions, random: number): number {
  const base = period(ttlSeconds, options);
  return options.jitter === 0 ? base : Math.round(base * (1 - random));
}

// The time between polls before jitter: the TTL clamped, or the fixed interval.
function period(ttlSeconds: number, options: ScheduleOptions): number {
  return options.respectTtl ? clamp(ttlSeconds * 1000, options.minInterval, options.maxInterval) : options.interval;
}

/** `base` spread uniformly over `base × [1 − jitter, 1 + jitter)`. */
export function withJitter(base: number, jitter: number, random: number): number {
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random - 1))));
}

/**
 * The backoff after `failures` consecutive failed polls, before p-retry's randomisation
 * (which multiplies it by [1, 2)) and its cap: `minInterval × 2^(failures − 1)`.
 */
export function nominalBackoff(
  failures: number,
  options: Pick<ScheduleOptions, 'minInterval' | 'maxInterval'>,
): number {
  return Math.min(options.maxInterval, options.minInterval * 2 ** Math.max(0, failures - 1));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
