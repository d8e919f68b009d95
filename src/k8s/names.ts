import { isIPv4, isIPv6 } from 'node:net';
import { checkName, describe } from '../wire/check.js';

/** Where a service lives. */
export interface ServiceRef {
  /** The service's name, a DNS label (`kafka-headless`). */
  service: string;
  /** @default 'default' */
  namespace?: string;
  /** @default 'cluster.local' */
  clusterDomain?: string;
}

const DEFAULT_NAMESPACE = 'default';
const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
// RFC 1123 label as Kubernetes uses it for service and pod names.
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// RFC 6335 service name (the SRV `_port` label): letters, digits, inner dashes, 1..15.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;

function checkLabel(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || !LABEL.test(value.toLowerCase())) {
    throw new TypeError(
      `${option}: expected a DNS label (letters, digits, inner dashes, 1..63), got ${describe(value)}`,
    );
  }
  return value.toLowerCase();
}

/**
 * The service name of a headless service.
 *
 * @example
 * serviceName({ service: 'kafka-headless', namespace: 'data' }) // 'kafka-headless.data.svc.cluster.local'
 */
export function serviceName(ref: ServiceRef): string {
  const service = checkLabel(ref.service, 'service');
  const namespace = checkLabel(ref.namespace ?? DEFAULT_NAMESPACE, 'namespace');
  const domain = checkName(ref.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN, 'clusterDomain');
  return checkName(`${service}.${namespace}.svc.${domain}`, 'service');
}

/** Names the SRV records of one named port. */
export interface SrvRef {
  /** The port's name in the service spec (`kafka`, `http`). */
  port: string;
  /** @default 'tcp' */
  protocol?: string;
  /** A service name (short or fully qualified); or `service` (+ namespace, clusterDomain). */
  name?: string;
  service?: string;
  namespace?: string;
  clusterDomain?: string;
}

/** Checks an SRV port name (RFC 6335). */
export function checkPortName(value: unknown, option = 'port'): string {
  if (typeof value !== 'string' || !PORT_NAME.test(value.toLowerCase())) {
    throw new TypeError(
      `${option}: expected a port name (1..15 letters, digits, inner dashes) or a number, got ${describe(value)}`,
    );
  }
  return value.toLowerCase();
}

/** Checks an SRV protocol label (`tcp`, `udp`, `sctp`). */
export function checkProtocol(value: unknown, option = 'protocol'): string {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9-]{0,14}$/i.test(value)) {
    throw new TypeError(`${option}: expected a protocol label such as 'tcp' or 'udp', got ${describe(value)}`);
  }
  return value.toLowerCase();
}

/** The SRV prefix `_<port>._<protocol>` of a named port. */
export function srvPrefix(port: string, protocol = 'tcp'): string {
  return `_${checkPortName(port)}._${checkProtocol(protocol)}`;
}

/**
 * The SRV name of a named port of a service.
 *
 * @example
 * srvName({ port: 'kafka', service: 'kafka-headless' }) // '_kafka._tcp.kafka-headless.default.svc.cluster.local'
 * srvName({ port: 'http', name: 'web' })                // '_http._tcp.web'
 */
export function srvName(ref: SrvRef): string {
  const base = ref.service !== undefined ? serviceName({ ...ref, service: ref.service }) : checkName(ref.name, 'name');
  return checkName(`${srvPrefix(ref.port, ref.protocol)}.${base}`, 'name');
}

/** One StatefulSet pod behind a headless service. */
export interface PodRef extends ServiceRef {
  /** The StatefulSet's name (`mysql`). */
  statefulSet: string;
  /** The pod's ordinal (`0` for `mysql-0`). */
  ordinal: number;
}

/**
 * The stable name of one StatefulSet pod, to reach one member directly.
 *
 * @example
 * podName({ statefulSet: 'mysql', ordinal: 0, service: 'mysql-headless' })
 * // 'mysql-0.mysql-headless.default.svc.cluster.local'
 */
export function podName(ref: PodRef): string {
  const set = checkLabel(ref.statefulSet, 'statefulSet');
  if (!Number.isSafeInteger(ref.ordinal) || ref.ordinal < 0) {
    throw new TypeError(`ordinal: expected a non-negative integer, got ${describe(ref.ordinal)}`);
  }
  return checkName(`${checkLabel(`${set}-${ref.ordinal}`, 'statefulSet')}.${serviceName(ref)}`, 'statefulSet');
}

const HEX_AND_DASHES = /^[0-9a-f-]+$/i;

/**
 * Whether a label is an address written with dashes, as cluster DNS names pods that
 * have no hostname (`10-244-1-7`, `fd00-10-244--7`).
 */
export function isDashedIp(label: string): boolean {
  // Hex digits and dashes only: pod names like `kafka-0` stop here, before the regexes.
  if (!label.includes('-') || !HEX_AND_DASHES.test(label)) return false;
  return isIPv4(label.replaceAll('-', '.')) || isIPv6(label.replaceAll('-', ':'));
}

/**
 * The StatefulSet ordinal in the first label of a pod name (`kafka-2.kafka-headless...`
 * gives 2); `undefined` for dashed-IP labels and anything not shaped `<set>-<n>`.
 */
export function ordinalOf(name: string): number | undefined {
  const dot = name.indexOf('.');
  const label = dot === -1 ? name : name.slice(0, dot);
  const match = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?-(0|[1-9][0-9]{0,8})$/i.exec(label);
  if (match === null || isDashedIp(label)) return undefined;
  return Number(match[2]);
}

/** The reverse-lookup name of an address (`7.1.244.10.in-addr.arpa`, `...ip6.arpa`). */
export function reverseName(address: string): string {
  if (isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!isIPv6(address)) throw new TypeError(`address: ${describe(address)} is not an IP address`);
  return `${expandIPv6(address).split('').reverse().join('.')}.ip6.arpa`;
}

/** The 32 hex digits of an IPv6 address. */
function expandIPv6(address: string): string {
  let text = address;
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => group.padStart(4, '0')).join('');
}
