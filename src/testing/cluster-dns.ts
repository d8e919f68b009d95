import type { RemoteInfo } from 'node:dgram';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, type Packet } from 'dns-packet';
import { reverseName } from '../k8s/names.js';
import { checkBoolean, checkName, describe, rejectNulls } from '../wire/check.js';
import { frame } from '../wire/framing.js';
import { canonicalName } from '../wire/message.js';
import { acceptFramed, listenUdpAndTcp } from './listen.js';

/** Options of {@link createClusterDns}. */
export interface ClusterDnsOptions {
  /** UDP and TCP port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /** @default 'cluster.local' */
  clusterDomain?: string;
  /** TTL of every record, seconds (CoreDNS's default is 5). @default 5 */
  ttl?: number;
  /**
   * Put SRV targets' addresses in the Additional section, as CoreDNS does. `false`
   * answers like BIND with many targets: SRV records only, so clients must look each
   * target up.
   * @default true
   */
  additionals?: boolean;
}

/** A named port: a number (TCP), or a port with its protocol. */
export type PodPort = number | { port: number; protocol?: 'tcp' | 'udp' | 'sctp' };

/** A pod as {@link ClusterDns.addPod} takes it. */
export interface PodSpec {
  /** The pod's hostname (`kafka-0`); without one, records use its dashed IP. */
  name?: string;
  /** The pod's address, or its addresses (dual-stack: one IPv4 and one IPv6). */
  ip: string | string[];
  /** Named ports, as the service's `ports[].name`: `{ kafka: 9092 }`. @default {} */
  ports?: Record<string, PodPort>;
  /** @default 'default' */
  namespace?: string;
  /** Only ready pods are published (as without `publishNotReadyAddresses`). @default true */
  ready?: boolean;
}

/** How the server misbehaves on purpose. */
export type FailureMode = 'servfail' | 'refused' | 'silent' | null;

interface Pod {
  name: string | undefined;
  ips: string[];
  ports: Map<string, { port: number; protocol: string }>;
  ready: boolean;
}

/** Counters of what the server received. */
export interface ClusterDnsStats {
  udp: number;
  tcp: number;
  /** Queries by type (`A`, `AAAA`, `SRV`, `PTR`, ...). */
  byType: Record<string, number>;
}

/** A running embedded cluster DNS server. */
export interface ClusterDns {
  readonly port: number;
  /** `'127.0.0.1:PORT'`, ready for `nameservers`. */
  readonly nameserver: string;
  readonly clusterDomain: string;
  readonly stats: ClusterDnsStats;
  /** Creates an (empty) service; `addPod` creates it too. */
  addService(service: string, options?: { namespace?: string }): void;
  /** Adds a pod, or replaces the pod of that name (a restart with a new IP). */
  addPod(service: string, pod: PodSpec): void;
  /** Removes the pod with that hostname or address. Returns whether there was one. */
  removePod(service: string, nameOrIp: string, options?: { namespace?: string }): boolean;
  /** Marks the pod with that hostname or address ready or not. */
  setReady(service: string, nameOrIp: string, ready: boolean, options?: { namespace?: string }): void;
  /** Answer every query with SERVFAIL, REFUSED, nothing at all, or normally again (`null`). */
  setFailure(mode: FailureMode): void;
  close(): Promise<void>;
}

const SOA_NAME_PREFIX = 'svc';
const TCP_LIMIT = 65535;

/**
 * Starts a small authoritative DNS server on 127.0.0.1 that answers like CoreDNS does
 * for headless services: A/AAAA per ready pod, SRV per named port with the targets'
 * addresses in Additional, PTR for pods with a hostname, NXDOMAIN at zero ready pods,
 * NODATA for a missing type, and a partial answer with TC=1 when UDP cannot hold it.
 *
 * @example
 * const dns = await createClusterDns();
 * dns.addPod('kafka-headless', { name: 'kafka-0', ip: '10.0.0.10', ports: { kafka: 9092 } });
 * const peers = await resolvePeers({ name: 'kafka-headless.default.svc.cluster.local', port: 'kafka', nameservers: [dns.nameserver] });
 * await dns.close();
 */
export async function createClusterDns(options: ClusterDnsOptions = {}): Promise<ClusterDns> {
  rejectNulls(options);
  const clusterDomain = checkName(options.clusterDomain ?? 'cluster.local', 'clusterDomain');
  checkBoolean('additionals', options.additionals);
  const ttl = options.ttl ?? 5;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) {
    throw new TypeError(`ttl: expected a non-negative integer of seconds, got ${describe(ttl)}`);
  }
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new TypeError(`port: expected an integer in 0..65535, got ${describe(requestedPort)}`);
  }
  const records = new RecordStore(clusterDomain, ttl, options.additionals ?? true);
  const { udp, tcp, port } = await listenUdpAndTcp(requestedPort);
  const stats: ClusterDnsStats = { udp: 0, tcp: 0, byType: {} };
  let failure: FailureMode = null;
  const connections = new Set<Socket>();

  const respond = (buf: Buffer, limit: number): Buffer | undefined => {
    let query: DecodedPacket;
    try {
      query = decode(buf);
    } catch {
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    if (question !== undefined) stats.byType[question.type] = (stats.byType[question.type] ?? 0) + 1;
    if (failure === 'silent') return undefined;
    const opt = query.additionals?.find((record) => record.type === 'OPT');
    const reply = records.answer(query, failure);
    if (opt !== undefined) {
      reply.additionals = [
        ...(reply.additionals ?? []),
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ];
    }
    const max = limit === TCP_LIMIT ? TCP_LIMIT : opt?.type === 'OPT' ? Math.max(512, opt.udpPayloadSize) : 512;
    return fitToSize(reply, max);
  };

  udp.on('message', (buf: Buffer, rinfo: RemoteInfo) => {
    stats.udp++;
    const reply = respond(buf, 0);
    if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address);
  });
  acceptFramed(tcp, connections, (message, socket) => {
    stats.tcp++;
    const reply = respond(message, TCP_LIMIT);
    if (reply !== undefined) socket.write(frame(reply));
  });

  let closed: Promise<void> | undefined;
  return {
    port,
    nameserver: `127.0.0.1:${port}`,
    clusterDomain,
    stats,
    addService: (service, opts) => records.service(service, opts?.namespace, true),
    addPod: (service, pod) => records.addPod(service, pod),
    removePod: (service, nameOrIp, opts) => records.removePod(service, nameOrIp, opts?.namespace),
    setReady: (service, nameOrIp, ready, opts) => records.setReady(service, nameOrIp, ready, opts?.namespace),
    setFailure: (mode) => {
      if (mode !== null && mode !== 'servfail' && mode !== 'refused' && mode !== 'silent') {
        throw new TypeError(`setFailure: expected 'servfail', 'refused', 'silent' or null, got ${String(mode)}`);
      }
      failure = mode;
    },
    close: () => {
      closed ??= (async () => {
        for (const socket of connections) socket.destroy();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      })();
      return closed;
    },
  };
}

// Drops the Additional section, then trailing answers, until the message fits; sets TC
// when answers had to go (CoreDNS's way: a partial answer, TC=1).
function fitToSize(reply: Packet, max: number): Buffer {
  const answers = (reply.answers ?? []).map((record) => encodeRecord(record, reply));
  const authorities = (reply.authorities ?? []).map((record) => encodeRecord(record, reply));
  const additionals = reply.additionals ?? [];
  const opt = additionals.filter((record) => record.type === 'OPT').map((record) => encodeRecord(record, reply));
  const extra = additionals.filter((record) => record.type !== 'OPT').map((record) => encodeRecord(record, reply));
  const head = encode({ ...reply, answers: [], authorities: [], additionals: [] });
  const size = (records: Buffer[]) => records.reduce((sum, record) => sum + record.length, 0);
  const fixed = head.length + size(authorities) + size(opt);
  if (fixed + size(answers) + size(extra) <= max)
    return assemble(head, answers, authorities, [...extra, ...opt], false);
  if (fixed + size(answers) <= max) return assemble(head, answers, authorities, opt, false);
  let room = max - fixed;
  let fit = 0;
  while (fit < answers.length && (answers[fit]?.length ?? 0) <= room) room -= answers[fit++]?.length ?? 0;
  return assemble(head, answers.slice(0, fit), authorities, opt, true);
}

const POINTER_TO_QUESTION = Buffer.from([0xc0, 0x0c]);

// dns-packet does not compress names. Real servers do, and without it 800 SRV records
// would not fit in 64 KB: an owner name equal to the question's becomes a pointer to it.
function encodeRecord(record: Answer, reply: Packet): Buffer {
  const alone = encode({ type: 'response', answers: [record] }).subarray(12);
  const question = reply.questions?.[0];
  if (record.type === 'OPT' || question === undefined) return alone;
  const owner = canonicalName(record.name);
  if (owner !== canonicalName(question.name)) return alone;
  const nameLength = owner === '' ? 1 : Buffer.byteLength(owner) + 2;
  return Buffer.concat([POINTER_TO_QUESTION, alone.subarray(nameLength)]);
}

function assemble(
  head: Buffer,
  answers: Buffer[],
  authorities: Buffer[],
  additionals: Buffer[],
  truncated: boolean,
): Buffer {
  const message = Buffer.concat([head, ...answers, ...authorities, ...additionals]);
  if (truncated) message.writeUInt16BE(message.readUInt16BE(2) | (1 << 9), 2);
  message.writeUInt16BE(answers.length, 6);
  message.writeUInt16BE(authorities.length, 8);
  message.writeUInt16BE(additionals.length, 10);
  return message;
}

class RecordStore {
  private readonly services = new Map<string, Map<string, Pod>>();

  constructor(
    private readonly zone: string,
    private readonly ttl: number,
    private readonly withAdditionals: boolean,
  ) {}

  service(name: string, namespace = 'default', create = false): Map<string, Pod> {
    const key = `${name.toLowerCase()}.${namespace.toLowerCase()}`;
    let pods = this.services.get(key);
    if (pods === undefined) {
      pods = new Map();
      if (create) this.services.set(key, pods);
    }
    return pods;
  }

  addPod(service: string, spec: PodSpec): void {
    const ips = Array.isArray(spec.ip) ? spec.ip : [spec.ip];
    if (ips.length === 0 || ips.some((ip) => typeof ip !== 'string' || (!isIPv4(ip) && !isIPv6(ip)))) {
      throw new TypeError(`ip: expected an IPv4 or IPv6 address (or a list), got ${JSON.stringify(spec.ip)}`);
    }
    const ports = new Map<string, { port: number; protocol: string }>();
    for (const [name, value] of Object.entries(spec.ports ?? {})) {
      const port = typeof value === 'number' ? value : value.port;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new TypeError(`ports.${name}: expected a port in 1..65535, got ${JSON.stringify(value)}`);
      }
      ports.set(name.toLowerCase(), { port, protocol: typeof value === 'number' ? 'tcp' : (value.protocol ?? 'tcp') });
    }
    const name = spec.name?.toLowerCase();
    const pods = this.service(service, spec.namespace, true);
    pods.set(name ?? ips[0] ?? '', { name, ips, ports, ready: spec.ready ?? true });
  }

  removePod(service: string, nameOrIp: string, namespace?: string): boolean {
    const pods = this.service(service, namespace);
    const key = this.find(pods, nameOrIp);
    return key !== undefined && pods.delete(key);
  }

  setReady(service: string, nameOrIp: string, ready: boolean, namespace?: string): void {
    const pods = this.service(service, namespace);
    const key = this.find(pods, nameOrIp);
    const pod = key === undefined ? undefined : pods.get(key);
    if (pod === undefined) throw new Error(`no pod ${nameOrIp} in service ${service}`);
    pod.ready = ready;
  }

  private find(pods: Map<string, Pod>, nameOrIp: string): string | undefined {
    const wanted = nameOrIp.toLowerCase();
    for (const [key, pod] of pods) if (pod.name === wanted || pod.ips.includes(nameOrIp)) return key;
    return undefined;
  }

  answer(query: DecodedPacket, failure: FailureMode): Packet {
    const question = query.questions?.[0];
    const reply: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: (query.flags ?? 0) & 0x0100, // echo RD
      questions: query.questions ?? [],
      answers: [],
      authorities: [],
      additionals: [],
    };
    const rcode = (code: number) => {
      reply.flags = (reply.flags ?? 0) | code;
      return reply;
    };
    if (failure === 'servfail') return rcode(2);
    if (failure === 'refused') return rcode(5);
    if (question === undefined || (query.questions?.length ?? 0) !== 1) return rcode(1);
    const name = canonicalName(question.name);
    reply.flags = (reply.flags ?? 0) | (1 << 10); // AA
    const found = this.lookup(name, question.type);
    if (found === undefined) {
      reply.authorities = [this.soa()];
      return rcode(3);
    }
    reply.answers = found.answers;
    reply.additionals = found.additionals;
    if (found.answers.length === 0) reply.authorities = [this.soa()];
    return reply;
  }

  // undefined: NXDOMAIN. Empty answers: NODATA.
  private lookup(name: string, type: string): { answers: Answer[]; additionals: Answer[] } | undefined {
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return this.reverse(name, type);
    const suffix = `.svc.${this.zone}`;
    if (!name.endsWith(suffix)) return undefined;
    const labels = name.slice(0, -suffix.length).split('.');
    const [namespace, service] = [labels.at(-1) ?? '', labels.at(-2) ?? ''];
    const pods = [...this.service(service, namespace).values()].filter((pod) => pod.ready);
    if (pods.length === 0) return undefined;
    const base = `${service}.${namespace}${suffix}`;
    const ttl = this.ttl;
    if (labels.length === 2) {
      const answers =
        type === 'A' || type === 'AAAA' ? pods.flatMap((pod) => this.addressRecords(name, pod, type)) : [];
      return { answers, additionals: [] };
    }
    if (labels.length === 3) {
      const host = labels[0];
      const pod = pods.find((p) => hostLabel(p) === host);
      if (pod === undefined) return undefined;
      return { answers: type === 'A' || type === 'AAAA' ? this.addressRecords(name, pod, type) : [], additionals: [] };
    }
    if (labels.length === 4 && labels[0]?.startsWith('_') && labels[1]?.startsWith('_')) {
      const portName = labels[0].slice(1);
      const protocol = labels[1].slice(1);
      const serving = pods.filter((pod) => pod.ports.get(portName)?.protocol === protocol);
      if (serving.length === 0) return undefined;
      if (type !== 'SRV') return { answers: [], additionals: [] };
      const weight = Math.max(1, Math.floor(100 / serving.length));
      const answers: Answer[] = [];
      const additionals: Answer[] = [];
      for (const pod of serving) {
        const target = `${hostLabel(pod)}.${base}`;
        const port = pod.ports.get(portName)?.port ?? 0;
        answers.push({ type: 'SRV', name, ttl, class: 'IN', data: { priority: 0, weight, port, target } });
        if (this.withAdditionals) {
          additionals.push(...this.addressRecords(target, pod, 'A'), ...this.addressRecords(target, pod, 'AAAA'));
        }
      }
      return { answers, additionals };
    }
    return undefined;
  }

  private reverse(name: string, type: string): { answers: Answer[]; additionals: Answer[] } | undefined {
    for (const [key, pods] of this.services) {
      for (const pod of pods.values()) {
        if (!pod.ready || pod.name === undefined) continue;
        const ip = pod.ips.find((address) => reverseName(address) === name);
        if (ip === undefined) continue;
        const target = `${pod.name}.${key}.svc.${this.zone}`;
        const answers: Answer[] =
          type === 'PTR' ? [{ type: 'PTR', name, ttl: this.ttl, class: 'IN', data: target }] : [];
        return { answers, additionals: [] };
      }
    }
    return undefined;
  }

  private addressRecords(name: string, pod: Pod, type: string): Answer[] {
    const want = type === 'A' ? isIPv4 : isIPv6;
    return pod.ips
      .filter((ip) => want(ip))
      .map((ip): Answer => ({ type: type === 'A' ? 'A' : 'AAAA', name, ttl: this.ttl, class: 'IN', data: ip }));
  }

  private soa(): Answer {
    return {
      type: 'SOA',
      name: `${SOA_NAME_PREFIX}.${this.zone}`,
      ttl: this.ttl,
      class: 'IN',
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: 1,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.ttl,
      },
    };
  }
}

/** The first label of a pod's records: its hostname, or its dashed address. */
function hostLabel(pod: Pod): string {
  if (pod.name !== undefined) return pod.name;
  const ip = pod.ips[0] ?? '';
  return isIPv4(ip) ? ip.replaceAll('.', '-') : ip.replaceAll(':', '-');
}
