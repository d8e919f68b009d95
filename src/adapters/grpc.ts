import grpcJs from '@grpc/grpc-js';
import type { Peer } from '../watch/peer.js';
import { type PeerWatcher, type WatchPeersOptions, watchPeers } from '../watch/watcher.js';
import { checkInteger, describe } from '../wire/check.js';

type Grpc = typeof grpcJs;
type GrpcUri = grpcJs.experimental.GrpcUri;
type ChannelOptions = grpcJs.ChannelOptions;
type Endpoint = grpcJs.experimental.Endpoint;

/** Options of {@link registerHeadlessResolver}: watch options for every channel, and the gRPC module. */
export interface HeadlessResolverOptions
  extends Omit<WatchPeersOptions, 'name' | 'service' | 'port' | 'signal' | 'client'> {
  /**
   * The `@grpc/grpc-js` module whose channels use the `headless` scheme: give your own when your
   * application may load another copy than the one this package resolves.
   * @default import('@grpc/grpc-js')
   */
  grpc?: Grpc;
  /** Port of every peer when the target names none (as gRPC's `dns` resolver). @default 443 */
  defaultPort?: number;
  /** Shortest time between the refreshes gRPC asks for (re-resolution), in ms. @default 1000 */
  minRefreshInterval?: number;
}

/** A target's parts: `headless:[//nameserver/]<service>[:<port name or number>]`. */
export interface HeadlessTarget {
  nameserver: string | undefined;
  service: string;
  /** A port name (SRV mode) or number (A/AAAA mode). */
  port: string | number;
}

/**
 * Splits a `headless` target's authority and path: the nameserver (`//127.0.0.1:5353/`, or
 * none for resolv.conf), the service name, and the port name or number after its last colon.
 *
 * @throws {TypeError} naming the target and what is wrong with it.
 */
export function parseHeadlessTarget(target: { authority?: string; path: string }, defaultPort = 443): HeadlessTarget {
  const path = target.path.replace(/^\/+/, '');
  const text = `headless:${target.authority ? `//${target.authority}/` : ''}${path}`;
  const colon = path.lastIndexOf(':');
  const service = colon < 0 ? path : path.slice(0, colon);
  const portText = colon < 0 ? '' : path.slice(colon + 1);
  if (service === '' || /[/\s]/.test(service)) {
    throw new TypeError(
      `target: ${JSON.stringify(text)} has no service name (headless:[//nameserver/]<service>[:<port>])`,
    );
  }
  let port: string | number = defaultPort;
  if (/^\d+$/.test(portText)) port = checkInteger('target port', Number(portText), 1, 65535);
  else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(portText)) port = portText.toLowerCase();
  else if (portText !== '' || colon >= 0) {
    throw new TypeError(`target: ${JSON.stringify(text)} has a bad port ${JSON.stringify(portText)}`);
  }
  return { nameserver: target.authority || undefined, service, port };
}

/** The endpoints gRPC connects to: one per peer, with every address of it. */
function endpointsOf(peers: readonly Peer[], port: number): Endpoint[] {
  return peers.map((peer) => ({ addresses: peer.addresses.map((host) => ({ host, port: peer.port ?? port })) }));
}

/** What the listener of every grpc-js version in the range gets told. */
interface Report {
  ok(endpoints: Endpoint[]): void;
  fail(details: string): void;
}

// grpc-js 1.14 passes a function taking a StatusOr of the endpoints; 1.10 to 1.13 an object
// with onSuccessfulResolution and onError.
function reporter(grpc: Grpc, listener: unknown): Report {
  const { status } = grpc;
  const error = (details: string) => ({ code: status.UNAVAILABLE, details, metadata: new grpc.Metadata() });
  if (typeof listener === 'function') {
    const call = listener as (result: unknown, attributes: object, serviceConfig: null, note: string) => boolean;
    return {
      ok: (endpoints) => call({ ok: true, value: endpoints }, {}, null, ''),
      fail: (details) => call({ ok: false, error: error(details) }, {}, null, details),
    };
  }
  const object = listener as {
    onSuccessfulResolution(
      endpoints: Endpoint[],
      config: null,
      configError: null,
      selector: null,
      attributes: object,
    ): void;
    onError(error: unknown): void;
  };
  return {
    ok: (endpoints) => object.onSuccessfulResolution(endpoints, null, null, null, {}),
    fail: (details) => object.onError(error(details)),
  };
}

/**
 * Registers the `headless` scheme with grpc-js: a channel to
 * `headless:///kafka-headless:kafka` (or `headless://10.96.0.10/kafka-headless:9092`, or
 * `headless:kafka-headless`) follows the service's peers as a watcher sees them, so
 * `round_robin` spreads calls over every pod, a pod that joins gets calls on the same
 * channel, and one that leaves DNS gets none. gRPC's re-resolution requests poll now (at
 * most once per `minRefreshInterval`); a failed poll keeps the address list, and an error
 * reaches gRPC only while there has never been one. Closing a channel closes its watcher.
 *
 * @example
 * registerHeadlessResolver({ leaveAfter: 10_000 });
 * const client = new EchoClient('headless:///echo-headless:grpc', credentials.createInsecure(), {
 *   'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
 * });
 */
export function registerHeadlessResolver(options: HeadlessResolverOptions = {}): void {
  const { grpc = grpcJs, defaultPort = 443, minRefreshInterval = 1000, ...watchOptions } = options;
  if (typeof grpc?.experimental?.registerResolver !== 'function') {
    throw new TypeError(`grpc: expected the @grpc/grpc-js module, got ${describe(grpc)}`);
  }
  checkInteger('defaultPort', defaultPort, 1, 65535);
  if ((watchOptions as WatchPeersOptions).client !== undefined) {
    throw new TypeError(
      'client: not an option here: each channel asks the nameserver its target names, with a client of its own',
    );
  }
  checkInteger('minRefreshInterval', minRefreshInterval, 0, 2_147_483_647);
  // Bad watch options show now, not at the first channel: a watcher made and closed.
  watchPeers({ ...watchOptions, name: 'check.invalid.', nameservers: ['127.0.0.1:53'] }).close();

  class HeadlessResolver {
    private watcher: PeerWatcher | undefined;
    private readonly report: Report;
    private readonly target: HeadlessTarget;
    private hasList = false;
    private lastRefresh = 0;
    private refreshTimer: NodeJS.Timeout | undefined;

    constructor(target: GrpcUri, listener: unknown, _options: ChannelOptions) {
      this.target = parseHeadlessTarget(target, defaultPort);
      this.report = reporter(grpc, listener);
    }

    static getDefaultAuthority(target: GrpcUri): string {
      // The service name: `name:portname` is no valid URL authority, and grpc-js would fail every call.
      return parseHeadlessTarget(target, defaultPort).service;
    }

    updateResolution(): void {
      if (this.watcher === undefined) {
        this.watcher = this.watch();
        return;
      }
      // gRPC asks again when a connection fails: poll now, but not more often than allowed.
      const wait = this.lastRefresh + minRefreshInterval - Date.now();
      if (this.refreshTimer !== undefined) return;
      this.refreshTimer = setTimeout(
        () => {
          this.refreshTimer = undefined;
          this.lastRefresh = Date.now();
          this.watcher?.refresh().catch(() => {});
        },
        Math.max(0, wait),
      );
      this.refreshTimer.unref();
    }

    destroy(): void {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
      void this.watcher?.close();
      this.watcher = undefined;
    }

    private watch(): PeerWatcher {
      const { service, port, nameserver } = this.target;
      const watcher = watchPeers({
        ...watchOptions,
        name: service,
        port,
        ...(nameserver === undefined ? {} : { nameservers: [nameserver] }),
      });
      const numeric = typeof port === 'number' ? port : defaultPort;
      const push = (peers: readonly Peer[]) => {
        if (this.watcher !== watcher) return;
        this.hasList = true;
        this.report.ok(endpointsOf(peers, numeric));
      };
      watcher.ready().then(push, () => {});
      watcher.on('changed', (change) => push(change.peers));
      watcher.on('error', (error) => {
        // A failed poll keeps the list gRPC has; before the first one, gRPC must hear why.
        if (!this.hasList && this.watcher === watcher) this.report.fail(`headless-peers: ${error.message}`);
      });
      return watcher;
    }
  }

  type Constructor = Parameters<Grpc['experimental']['registerResolver']>[1];
  grpc.experimental.registerResolver('headless', HeadlessResolver as unknown as Constructor);
}
