import { debuglog } from 'node:util';
import { ordinalOf, reverseName, searchCandidates } from '../k8s/index.js';
import type { DnsResult, QueryType } from '../wire/client.js';
import { canonicalName } from '../wire/message.js';
import type { RecordOf } from '../wire/records.js';
import { sameList } from './diff.js';
import type { PeerQuery } from './options.js';
import { addressId, byId, orderAddresses, type Peer } from './peer.js';

/** Why a poll found no peers. */
export type EmptyReason = 'nxdomain' | 'nodata' | 'no-addresses';

/** What one poll found. A failure is not an outcome: it rejects with a DnsError. */
export type PollOutcome =
  | {
      kind: 'records';
      peers: Peer[];
      /** Smallest TTL seen, seconds. */
      ttl: number;
      /** Answers of this poll that came with TC=1 and were asked again over TCP. */
      truncations: number;
      /** Queries this poll sent. */
      queries: number;
    }
  | {
      kind: 'empty';
      /**
       * NXDOMAIN (no ready pods) or NODATA; or `no-addresses`: SRV records whose targets all
       * have no address (a cache's SRV set outliving the pods' own records).
       */
      reason: EmptyReason;
      ttl: number;
      truncations: number;
      queries: number;
    };

const debug = debuglog('headless-peers');

// Shared by every address list that has no address: never pushed to (see Addresses).
const NONE: string[] = [];

/**
 * Runs polls for one query. Between polls it keeps the SRV targets' addresses, so an
 * unchanged service with many targets (no Additional section) costs the SRV query plus
 * one A/AAAA query per family, not one lookup per target: targets are looked up again
 * only when new, or all of them when the service's own address set changed.
 */
export class Poller {
  private targets = new Map<string, Addresses>();
  private serviceAddresses: string | undefined;
  // A/AAAA mode with names: the PTR name of each address, and the address set they are for.
  private names = new Map<string, string | undefined>();
  private namedAddresses: string | undefined;
  /** Queries sent by every poll so far, failed polls included. */
  queries = 0;
  // SRV mode: the peers of the last poll, by target. One that has not changed is given
  // again (its TTL updated) rather than built anew: a steady service's polls build no
  // peers, and the objects a watcher keeps as members are never the garbage of a poll.
  private last = new Map<string, Peer>();

  // The service names to try, in search-list order, each with its SRV name: fixed for
  // the life of the poller, so a poll builds no name strings.
  private readonly candidates: readonly { service: string; srv: string }[];

  constructor(private readonly query: PeerQuery) {
    this.candidates = searchCandidates(query.name, query.client.search, query.client.ndots).map((service) => ({
      service,
      srv: query.srvPrefix === undefined ? service : `${query.srvPrefix}.${service}`,
    }));
  }

  /**
   * One poll. Rejects with a DnsError when any needed answer failed: never a partial set.
   * Every lookup listens to `signal` while it waits: give a signal with no listener limit.
   */
  async poll(signal?: AbortSignal): Promise<PollOutcome> {
    const run = new PollRun(this.query, signal, this);
    const { candidates } = this;
    let outcome: PollOutcome | undefined;
    const tried: string[] = [];
    for (const candidate of candidates) {
      outcome =
        this.query.srvPrefix === undefined
          ? await this.addressMode(run, candidate.service)
          : await this.srvMode(run, candidate.service, candidate.srv);
      // The search goes on only while the name does not exist (or holds nothing of the type).
      if (outcome.kind === 'records' || outcome.reason === 'no-addresses') break;
      if (debug.enabled) tried.push(`${candidate.srv} (${outcome.reason})`);
    }
    if (outcome === undefined) throw new Error('no candidate names'); // searchCandidates never returns []
    // A name that does not exist looks exactly like a service with no ready pods: say what was asked.
    if (outcome.kind === 'empty' && tried.length > 0)
      debug('%s: no such service, or no ready pods; asked %s', this.query.name, tried.join(', '));
    return outcome;
  }

  /** The names a poll asks, in search-list order (SRV names in SRV mode). */
  askedNames(): string[] {
    return this.candidates.map((candidate) => candidate.srv);
  }

  private async srvMode(run: PollRun, service: string, srvName: string): Promise<PollOutcome> {
    const srv = await run.ask(srvName, 'SRV');
    if (srv.status !== 'records') return run.empty(srv);
    const records = srv.answers as RecordOf<'SRV'>[];
    // Each record's target, canonical, once.
    const targets = records.map((record) => canonicalName(record.data.target));
    const fromAdditional = addressesFromAdditional(srv);
    // Made only when some target must be looked up: a poll answered from the Additional
    // section (a steady service, usually) builds no set or map beyond the one above.
    let needed: Set<string> | undefined;
    for (const target of targets) {
      if (fromAdditional.has(target)) continue;
      needed ??= new Set();
      needed.add(target);
    }
    let known: Map<string, Addresses> | undefined;
    if (needed !== undefined) {
      const found = new Map<string, Addresses>();
      known = found;
      // The service's own A/AAAA set changes whenever a pod's address does: unchanged,
      // the remembered addresses of known targets still hold, as long as they are in it.
      // Behind a cache the service's set and each pod's record expire apart, so a pod asked
      // right after the set changed may still give its old address: asked again each poll
      // until the two agree.
      const set = await this.serviceAddressSet(run, service);
      const { key, v4, v6 } = set;
      const changed = key !== this.serviceAddresses;
      this.serviceAddresses = key;
      const lookups: string[] = [];
      for (const target of needed) {
        const remembered = changed ? undefined : this.targets.get(target);
        if (remembered === undefined || !set.holds(remembered)) lookups.push(target);
        else found.set(target, remembered);
      }
      // Every target's addresses are among the service's own: when the service has
      // addresses, but none of one family, no target has that family either.
      const families = { v4: v4 > 0 || v6 === 0, v6: v6 > 0 || v4 === 0 };
      // Over UDP, `concurrency` targets at a time, even after an SRV answer that needed
      // TCP: a server answers datagrams in parallel, while BIND holds back pipelined TCP
      // answers (Nagle) and the Go DNS library under CoreDNS answers a connection's queries
      // one after another (see docs/performance.md).
      await run.each(lookups, async (target) => {
        found.set(target, await run.addressesOf(target, families));
      });
    }
    const peers: Peer[] = [];
    let made = false;
    let ttl = srv.ttl;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as RecordOf<'SRV'>;
      const target = targets[i] as string;
      const { port } = record.data;
      const priority = record.data.priority ?? 0;
      const weight = record.data.weight ?? 0;
      const addresses = fromAdditional.get(target) ?? known?.get(target) ?? NO_ADDRESSES;
      const peerTtl = Math.min(record.ttl ?? 0, addresses.ttl);
      let peer = this.last.get(target);
      if (
        peer === undefined ||
        peer.port !== port ||
        peer.priority !== priority ||
        peer.weight !== weight ||
        !this.holds(peer.addresses, addresses)
      ) {
        const list = this.pick(addresses);
        // An authoritative "no address" for a target: nothing to connect to, not a peer.
        if (list.length === 0) continue;
        peer = makePeer(`${target}:${port}`, list, peerTtl, target, port);
        peer.priority = priority;
        peer.weight = weight;
        made = true;
      }
      peer.ttl = peerTtl;
      ttl = Math.min(ttl, peerTtl);
      peers.push(peer);
    }
    // Targets named, none with an address: the pods are gone and a cache still serves the
    // SRV set. That is an empty service (confirmEmpty and leaveAfter apply), not a poll that
    // found every member absent.
    if (peers.length === 0 && records.length > 0) return run.empty(srv, 'no-addresses');
    const outcome = run.records(peers, ttl);
    if (made || outcome.peers.length !== this.last.size)
      this.last = new Map(outcome.peers.map((peer) => [peer.name as string, peer]));
    // Remembered for the next poll that must look targets up, under the service address set
    // of this one. A poll answered wholly from the Additional section leaves the memory as it
    // was: it asked for no address set, and rebuilding a map each poll that lives until the
    // next is what a generational collector copies twice.
    if (known !== undefined) {
      this.targets = known;
      for (const target of targets) {
        const addresses = fromAdditional.get(target);
        if (addresses !== undefined) known.set(target, addresses);
      }
    }
    return outcome;
  }

  private async addressMode(run: PollRun, service: string): Promise<PollOutcome> {
    const results = await Promise.all(this.families().map((type) => run.ask(service, type)));
    const found = results.filter((result) => result.status === 'records');
    if (found.length === 0) return run.empty(results.find((r) => r.status === 'nodata') ?? (results[0] as DnsResult));
    const peers: Peer[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    for (const result of found) {
      for (const record of result.answers as RecordOf<'A' | 'AAAA'>[]) {
        ttl = Math.min(ttl, record.ttl ?? 0);
        const peer = makePeer(
          addressId(record.data, this.query.port),
          [record.data],
          record.ttl ?? 0,
          undefined,
          this.query.port,
        );
        peers.push(peer);
      }
    }
    if (this.query.names) {
      // Names are looked up again only when the address set changed: an unchanged
      // service costs its A/AAAA queries, not one PTR query per pod and poll.
      const key = peers
        .map((peer) => peer.address)
        .sort()
        .join(',');
      if (key !== this.namedAddresses) {
        const names = new Map<string, string | undefined>();
        await run.each(peers, async (peer) => {
          const ptr = await run.ask(reverseName(peer.address), 'PTR', false);
          const target = (ptr.answers as RecordOf<'PTR'>[])[0];
          names.set(peer.address, target === undefined ? undefined : canonicalName(target.data));
        });
        this.names = names;
        this.namedAddresses = key;
      }
      for (const peer of peers) {
        const name = this.names.get(peer.address);
        if (name === undefined) continue;
        peer.name = name;
        const ordinal = ordinalOf(name);
        if (ordinal !== undefined) peer.ordinal = ordinal;
      }
    }
    return run.records(peers, ttl);
  }

  // The service name's own A/AAAA set.
  private async serviceAddressSet(run: PollRun, service: string): Promise<ServiceAddresses> {
    const { family } = this.query;
    const [v4, v6] = await Promise.all([
      family === 6 ? [] : run.ask(service, 'A').then(strings),
      family === 4 ? [] : run.ask(service, 'AAAA').then(strings),
    ]);
    return new ServiceAddresses(v4, v6);
  }

  private families(): QueryType[] {
    const { family } = this.query;
    return family === 4 ? ['A'] : family === 6 ? ['AAAA'] : ['A', 'AAAA'];
  }

  private pick(addresses: Addresses): string[] {
    const { family } = this.query;
    return orderAddresses(family === 6 ? NONE : addresses.v4, family === 4 ? NONE : addresses.v6);
  }

  // Whether `list` is what pick(addresses) gives, without building it for the usual pod.
  private holds(list: readonly string[], addresses: Addresses): boolean {
    const { family } = this.query;
    const v4 = family === 6 ? NONE : addresses.v4;
    const v6 = family === 4 ? NONE : addresses.v6;
    if (v4.length + v6.length === 1) return list.length === 1 && list[0] === (v4[0] ?? v6[0]);
    return sameList(list, orderAddresses(v4, v6));
  }
}

/** The state of one poll: its signal, its counters. */
class PollRun {
  queries = 0;
  truncations = 0;

  constructor(
    private readonly query: PeerQuery,
    private readonly signal: AbortSignal | undefined,
    // Counts every query of the poller's life, failed polls' too.
    private readonly poller: { queries: number },
  ) {}

  /** `remember: false` for names that come and go with pods (targets, reverse names). */
  async ask(name: string, type: QueryType, remember = true): Promise<DnsResult> {
    this.queries++;
    this.poller.queries++;
    const result = await this.query.client.query(name, type, { signal: this.signal, remember });
    if (result.truncated) this.truncations++;
    return result;
  }

  async addressesOf(target: string, families: { v4: boolean; v6: boolean }): Promise<Addresses> {
    const { family } = this.query;
    const [v4, v6] = await Promise.all([
      family === 6 || !families.v4 ? undefined : this.ask(target, 'A', false),
      family === 4 || !families.v6 ? undefined : this.ask(target, 'AAAA', false),
    ]);
    const ttl = Math.min(v4?.status === 'records' ? v4.ttl : Infinity, v6?.status === 'records' ? v6.ttl : Infinity);
    return new Addresses(strings(v4), strings(v6), ttl);
  }

  /** Runs `task` over `items`, at most `concurrency` at once; the first failure fails all. */
  async each<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < items.length && !failed) {
        const item = items[next++] as T;
        try {
          await task(item);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const workers = Array.from({ length: Math.min(this.query.concurrency, items.length) }, worker);
    await Promise.all(workers);
  }

  empty(result: DnsResult, reason: EmptyReason = result.status === 'nxdomain' ? 'nxdomain' : 'nodata'): PollOutcome {
    return { kind: 'empty', reason, ttl: result.ttl, truncations: this.truncations, queries: this.queries };
  }

  /** The outcome with `peers` sorted by id, one per id: of records giving one twice, the later. */
  records(peers: Peer[], ttl: number): PollOutcome & { kind: 'records' } {
    peers.sort(byId);
    let kept = 0;
    for (const peer of peers) {
      if (kept > 0 && (peers[kept - 1] as Peer).id === peer.id) peers[kept - 1] = peer;
      else peers[kept++] = peer;
    }
    peers.length = kept;
    return {
      kind: 'records',
      peers,
      ttl: Number.isFinite(ttl) ? ttl : 0,
      truncations: this.truncations,
      queries: this.queries,
    };
  }
}

function strings(result: DnsResult | undefined): string[] {
  return result?.status === 'records' ? (result.answers as RecordOf<'A' | 'AAAA'>[]).map((record) => record.data) : [];
}

/** One target's addresses; `v4`/`v6` are {@link NONE} until an address of theirs comes. */
class Addresses {
  constructor(
    public v4: string[],
    public v6: string[],
    public ttl: number,
  ) {}
}

const NO_ADDRESSES = new Addresses(NONE, NONE, Number.POSITIVE_INFINITY);

/** The service name's own A/AAAA set, which holds every ready pod's addresses. */
class ServiceAddresses {
  /** Changes whenever a pod's address does. */
  readonly key: string;
  readonly v4: number;
  readonly v6: number;
  private readonly all: ReadonlySet<string>;

  constructor(v4: string[], v6: string[]) {
    this.key = `${v4.sort().join(',')}|${v6.sort().join(',')}`;
    this.v4 = v4.length;
    this.v6 = v6.length;
    this.all = new Set([...v4, ...v6]);
  }

  /**
   * Whether a target's addresses are all in the set. A family the set has no address of
   * tells nothing (the set may be a cached NXDOMAIN of its own): its addresses pass.
   */
  holds(addresses: Addresses): boolean {
    return (
      (this.v4 === 0 || addresses.v4.every((address) => this.all.has(address))) &&
      (this.v6 === 0 || addresses.v6.every((address) => this.all.has(address)))
    );
  }
}

/**
 * The addresses the Additional section gives, by owner. Only targets' entries are read, so
 * records owned by other names are simply never looked at. An entry's lists start as the
 * one address seen (or NONE): a list made empty and then pushed to would take room for 17.
 */
function addressesFromAdditional(srv: DnsResult): Map<string, Addresses> {
  const found = new Map<string, Addresses>();
  for (const record of srv.additionals) {
    if (record.type !== 'A' && record.type !== 'AAAA') continue;
    const owner = canonicalName(record.name);
    const ttl = record.ttl ?? 0;
    const v4 = record.type === 'A';
    const entry = found.get(owner);
    if (entry === undefined) {
      found.set(owner, new Addresses(v4 ? [record.data] : NONE, v4 ? NONE : [record.data], ttl));
      continue;
    }
    const list = v4 ? entry.v4 : entry.v6;
    if (list === NONE) {
      if (v4) entry.v4 = [record.data];
      else entry.v6 = [record.data];
    } else list.push(record.data);
    entry.ttl = Math.min(entry.ttl, ttl);
  }
  return found;
}

function makePeer(
  id: string,
  addresses: string[],
  ttl: number,
  name: string | undefined,
  port: number | undefined,
): Peer {
  const address = addresses[0] ?? '';
  // Addresses come from A or AAAA records, already checked: only IPv6 ones hold a colon.
  const peer: Peer = { id, address, addresses, family: address.includes(':') ? 6 : 4, ttl };
  if (name !== undefined) {
    peer.name = name;
    const ordinal = ordinalOf(name);
    if (ordinal !== undefined) peer.ordinal = ordinal;
  }
  if (port !== undefined) peer.port = port;
  return peer;
}
