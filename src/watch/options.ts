import { checkPortName, checkProtocol, clusterDomainOf, podNamespace, serviceName } from '../k8s/index.js';
import { checkBoolean, checkInteger, checkName, checkSignal, describe, rejectNulls } from '../wire/check.js';
import { DnsClient as Client, type DnsClient, isDnsClient } from '../wire/client.js';
import { type SelfIdentity, type SelfOptions, selfIdentity } from './self.js';

/** Options shared by `resolvePeers` and `watchPeers`: what to look up and how. */
export interface PeerQueryOptions {
  /** Service name, short (the search list applies) or fully qualified. Or give `service`. */
  name?: string;
  /** Service's name in its namespace; with `namespace` and `clusterDomain` instead of `name`. */
  service?: string;
  /** @default the pod's namespace (service-account file, then `POD_NAMESPACE`), else 'default' */
  namespace?: string;
  /** @default what the search list shows (`svc.<domain>`), else 'cluster.local' */
  clusterDomain?: string;
  /**
   * A port name: SRV mode (`_<port>._<protocol>.<name>`). A number: A/AAAA mode, that port
   * on every peer. Omitted: A/AAAA mode without ports.
   */
  port?: string | number;
  /** SRV protocol label. @default 'tcp' */
  protocol?: string;
  /** 4, 6, or 0 for both (IPv4 first). @default 0 */
  family?: 0 | 4 | 6;
  /** A/AAAA mode: fill each peer's `name` and `ordinal` from its address's PTR record. @default false */
  names?: boolean;
  /** A shared client; its nameservers, search list, timeout and attempts then apply. */
  client?: DnsClient;
  /** @default /etc/resolv.conf */
  nameservers?: readonly string[];
  /** @default /etc/resolv.conf */
  search?: readonly string[];
  /** @default /etc/resolv.conf */
  ndots?: number;
  /** Milliseconds per query attempt. @default `options timeout` of /etc/resolv.conf (seconds), else 2000 */
  timeout?: number;
  /**
   * Tries per question in all, rotating over the nameservers.
   * @default `options attempts` × nameservers of /etc/resolv.conf, else 3
   */
  attempts?: number;
  /**
   * Address lookups of SRV targets (and reverse-name lookups) in flight at once, over UDP.
   * The client sends at most 128 datagrams to one nameserver at once and queues the rest.
   * @default 64
   */
  concurrency?: number;
  /**
   * Who this process is among the peers (`excludeSelf`, `isSelf()`, `bootstrap()`).
   * @default `POD_NAME` or `HOSTNAME`, and `POD_IP`, from the environment (the downward API);
   * else the host name and every interface address
   */
  self?: SelfOptions;
  /** Leave this process (see `self`) out of the peers. @default false */
  excludeSelf?: boolean;
  /** Cancels the lookup (or closes the watcher). */
  signal?: AbortSignal;
}

/** Validated lookup settings. */
export interface PeerQuery {
  /** The service name to search for (short or full, as given). */
  name: string;
  /** `_<port>._<protocol>` in SRV mode. */
  srvPrefix: string | undefined;
  port: number | undefined;
  family: 0 | 4 | 6;
  names: boolean;
  concurrency: number;
  client: DnsClient;
  /** Whether `client` was made here (and must be closed here). */
  ownsClient: boolean;
  /** This process, as the `self` option gave it (else found when first needed). */
  self: SelfIdentity | undefined;
  excludeSelf: boolean;
}

const CLIENT_OPTIONS = ['nameservers', 'search', 'ndots', 'timeout', 'attempts'] as const;

/**
 * Checks the options and builds the query, throwing a TypeError that names the bad
 * option and value.
 */
export function toPeerQuery(options: PeerQueryOptions): PeerQuery {
  rejectNulls(options);
  checkSignal(options.signal);
  const family = options.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new TypeError(`family: expected 4, 6 or 0, got ${describe(family)}`);
  }
  const { port } = options;
  let srvPrefix: string | undefined;
  let numericPort: number | undefined;
  if (typeof port === 'string') {
    srvPrefix = `_${checkPortName(port)}._${checkProtocol(options.protocol ?? 'tcp')}`;
  } else if (port !== undefined) {
    numericPort = checkInteger('port', port, 1, 65535);
  }
  if (options.protocol !== undefined) checkProtocol(options.protocol);
  checkBoolean('names', options.names);
  const concurrency = checkInteger('concurrency', options.concurrency ?? 64, 1, 1024);
  checkBoolean('excludeSelf', options.excludeSelf);
  const self = options.self === undefined ? undefined : selfIdentity(options.self);

  let client: DnsClient;
  let ownsClient = false;
  if (options.client !== undefined) {
    if (!isDnsClient(options.client)) {
      throw new TypeError(`client: expected a DnsClient, got ${describe(options.client)}`);
    }
    const clash = CLIENT_OPTIONS.find((key) => options[key] !== undefined);
    if (clash !== undefined) {
      throw new TypeError(`${clash}: cannot be given with client (the client's own ${clash} applies)`);
    }
    client = options.client;
  } else {
    client = new Client({
      nameservers: options.nameservers,
      search: options.search,
      ndots: options.ndots,
      timeout: options.timeout,
      attempts: options.attempts,
    });
    ownsClient = true;
  }

  let name: string;
  if (options.name !== undefined) {
    if (options.service !== undefined) throw new TypeError('name: give either name or service, not both');
    checkName(options.name, 'name');
    name = options.name;
  } else if (options.service !== undefined) {
    // Fully qualified with a trailing dot: the search list must not apply to it.
    name = `${serviceName({
      service: options.service,
      namespace: options.namespace ?? podNamespace(),
      clusterDomain: options.clusterDomain ?? clusterDomainOf(client.search),
    })}.`;
  } else {
    if (ownsClient) client.close();
    throw new TypeError('name: expected a service name (or give service), got undefined');
  }
  return {
    name,
    srvPrefix,
    port: numericPort,
    family,
    names: options.names ?? false,
    concurrency,
    client,
    ownsClient,
    self,
    excludeSelf: options.excludeSelf ?? false,
  };
}
