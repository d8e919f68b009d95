import type { Peer } from '../watch/peer.js';
import { withDeadline } from '../watch/signals.js';
import { decideOnPolls } from '../watch/wait.js';
import { checkSettled, checkWatcher, type PeerWatcher } from '../watch/watcher.js';
import { checkInteger, describe, rejectNulls } from '../wire/check.js';
import { DnsError } from '../wire/errors.js';
import { lowestPeer } from './lowest.js';

/** Options of {@link bootstrap}. */
export interface BootstrapOptions {
  /**
   * The watcher of the service the members find each other through, which must include this
   * process (no `excludeSelf`; give it `self` when the environment does not say who it is).
   */
  watcher: PeerWatcher;
  /**
   * Whether `peer` already belongs to a cluster (your own check: an HTTP GET of its status, a
   * gossip ping). Called for every other member once a poll; a probe that throws, or takes
   * longer than `probeTimeout`, counts as "no" for that round. Stop when `signal` aborts.
   */
  probe: (peer: Peer, signal: AbortSignal) => boolean | Promise<boolean>;
  /** Members the settled set must hold, this process included: for a StatefulSet of N, N. @default 1 */
  min?: number;
  /** Ms the set must not have changed, across at least two successful polls. @default 5000 */
  stableFor?: number;
  /** Stops bootstrapping: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Ms one probe may take. @default 2000 */
  probeTimeout?: number;
  /** Probes of one round in flight at once. @default 16 */
  probeConcurrency?: number;
}

/** What this process should do: form a new cluster, or join the one `seeds` belong to. */
export type BootstrapPlan =
  | {
      action: 'form';
      /** The settled set, this process the lowest of it. */
      peers: Peer[];
    }
  | {
      action: 'join';
      /** The members whose probe said they belong to a cluster. */
      seeds: Peer[];
    };

/** Codes of {@link BootstrapError}. */
export type BootstrapErrorCode = 'ENOSELF';

/** Why `bootstrap()` cannot decide. Branch on `code`. */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';

  constructor(
    readonly code: BootstrapErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * Decides whether this process forms a new cluster or joins an existing one, so that pods
 * started together form exactly one (Akka Cluster Bootstrap's rule). Each poll, every other
 * member is probed: as soon as one says it belongs to a cluster, `{ action: 'join', seeds }`,
 * even for the lowest member (a restarted pod-0 must not form a second cluster). Otherwise,
 * once the set has settled (see `watcher.settled()`), the lowest member of it (see
 * {@link lowestPeer}) gets `{ action: 'form' }` and everyone else goes on probing until it has
 * formed; a change of the set starts the settling again. Rejects with a {@link BootstrapError}
 * `ENOSELF` when a settled set does not hold this process, with the signal's reason on abort,
 * and with `ECANCELLED` when the watcher closes.
 *
 * @example
 * const plan = await bootstrap({ watcher, min: 3, probe: (peer, signal) => isInACluster(peer, signal) });
 * if (plan.action === 'form') startNewCluster();
 * else joinThrough(plan.seeds);
 */
export async function bootstrap(options: BootstrapOptions): Promise<BootstrapPlan> {
  const settings = checkBootstrap(options);
  const { watcher } = settings;
  const bootstrapper = new Bootstrapper(settings);
  return decideOnPolls(
    watcher,
    (over) => bootstrapper.round(over),
    options.signal,
    () => closed(watcher),
  );
}

interface Settings {
  watcher: PeerWatcher;
  probe: BootstrapOptions['probe'];
  min: number;
  stableFor: number;
  probeTimeout: number;
  probeConcurrency: number;
}

function checkBootstrap(options: BootstrapOptions): Settings {
  rejectNulls(options);
  const { probe } = options;
  const watcher = checkWatcher(options.watcher);
  if (watcher.excludesSelf) {
    throw new TypeError(
      'watcher: excludes this process (excludeSelf: true), but bootstrap() counts it in min and must find it in the set',
    );
  }
  if (typeof probe !== 'function') throw new TypeError(`probe: expected a function, got ${describe(probe)}`);
  const { min, stableFor } = checkSettled({ min: options.min, stableFor: options.stableFor, signal: options.signal });
  return {
    watcher,
    probe,
    min,
    stableFor,
    probeTimeout: checkInteger('probeTimeout', options.probeTimeout ?? 2000, 1, 2_147_483_647),
    probeConcurrency: checkInteger('probeConcurrency', options.probeConcurrency ?? 16, 1, 1024),
  };
}

function closed(watcher: PeerWatcher): DnsError {
  return new DnsError('ECANCELLED', 'watcher closed (bootstrap)', {
    hostname: undefined,
    cause: watcher.signal.reason,
  });
}

/** One bootstrap: a probe round after every poll of the watcher, until one decides. */
class Bootstrapper {
  constructor(private readonly settings: Settings) {}

  /** One round; `over` aborts the probes in flight once the outcome is known. */
  async round(over: AbortSignal): Promise<BootstrapPlan | undefined> {
    const { watcher, min, stableFor } = this.settings;
    const others = watcher.peers().filter((peer) => !watcher.isSelf(peer));
    const seeds = await this.probeAll(others, over);
    if (seeds.length > 0) return { action: 'join', seeds };
    // Judged after the probes: a member that appeared meanwhile has unsettled the set.
    const settled = watcher.settledPeers(min, stableFor);
    if (settled === undefined) return undefined;
    const self = settled.find((peer) => watcher.isSelf(peer));
    if (self === undefined) {
      throw new BootstrapError(
        'ENOSELF',
        `this process is not among the ${settled.length} settled peers (${settled.map((peer) => peer.address).join(', ')}): ` +
          'give the watcher `self` ({ name, address }), and let pods find each other before they are ready with ' +
          '`publishNotReadyAddresses: true` on the discovery service',
      );
    }
    return lowestPeer(settled) === self ? { action: 'form', peers: settled } : undefined;
  }

  /** The peers whose probe said yes, probing `probeConcurrency` at a time. */
  private async probeAll(peers: Peer[], over: AbortSignal): Promise<Peer[]> {
    const answers = new Array<boolean>(peers.length).fill(false);
    let next = 0;
    const worker = async () => {
      while (next < peers.length && !over.aborted) {
        const i = next++;
        answers[i] = await this.probeOne(peers[i] as Peer, over);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.probeConcurrency, peers.length) }, worker));
    return peers.filter((_, i) => answers[i]);
  }

  private async probeOne(peer: Peer, over: AbortSignal): Promise<boolean> {
    const { probe, probeTimeout } = this.settings;
    try {
      return (await withDeadline((signal) => probe(peer, signal), probeTimeout, 'probe', over)) === true;
    } catch {
      return false;
    }
  }
}
