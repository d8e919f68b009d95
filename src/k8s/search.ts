import { canonicalName } from '../wire/message.js';

/**
 * The names a pod's resolver would try for `name`, in order (glibc/musl rules):
 * a name ending in a dot is tried as-is only; a name with at least `ndots` dots is tried
 * as-is first, then with each suffix; a shorter one with each suffix first, then as-is.
 *
 * @example
 * searchCandidates('kafka', ['default.svc.cluster.local'], 5)
 * // ['kafka.default.svc.cluster.local', 'kafka']
 */
export function searchCandidates(name: string, search: readonly string[], ndots: number): string[] {
  if (name.endsWith('.')) return [canonicalName(name)];
  const bare = canonicalName(name);
  const dots = bare.split('.').length - 1;
  const suffixed = search
    .map((suffix) => `${bare}.${canonicalName(suffix)}`)
    .filter((candidate) => candidate.length <= 253);
  const candidates = dots >= ndots ? [bare, ...suffixed] : [...suffixed, bare];
  return [...new Set(candidates)];
}
