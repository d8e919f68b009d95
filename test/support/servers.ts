import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ZoneSpec, zoneFile } from './bind.js';
import { type Daemon, findProgram, freePort, startDaemon } from './daemon.js';

/**
 * A DNS server other than the BIND 9 the zones live on: a cache forwarding to it (the
 * NodeLocal DNSCache shape), or another authoritative server loaded with the same zones.
 */
export interface OtherServer extends Daemon {
  /** Program name, as the interop tables show it. */
  readonly name: string;
  /** A cache in front of BIND (changes made there show through), or a server of its own. */
  readonly kind: 'cache' | 'authoritative';
  close(): Promise<void>;
}

/** How to start one kind of server: `upstream` is BIND's nameserver, for caches. */
export interface ServerKind {
  name: string;
  kind: 'cache' | 'authoritative';
  /** The program, or undefined when it is not installed. */
  program: string | undefined;
  /** The Debian package that has it. */
  debianPackage: string;
  start(zones: ZoneSpec[], upstream: string): Promise<OtherServer>;
}

/** Where a server is started from: its program, and its arguments. */
type Command = [program: string, args: string[]];

/**
 * Starts a server in a fresh work directory on a free port: `configure` writes its files there
 * and gives the command. The directory goes with the server, or at once when it fails to start.
 */
async function launch(
  kind: Omit<ServerKind, 'start'>,
  zones: ZoneSpec[],
  configure: (dir: string, port: number) => Command,
): Promise<OtherServer> {
  const dir = mkdtempSync(join(tmpdir(), `headless-peers-${kind.name}-`));
  const probe = `ns.${zones[0]?.origin ?? 'cluster.local'}`;
  let daemon: Daemon;
  let port: number;
  try {
    port = await freePort();
    const [command, args] = configure(dir, port);
    daemon = await startDaemon({ name: kind.name, command, args, port, probe, cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: kind.name,
    kind: kind.kind,
    nameserver: daemon.nameserver,
    port,
    get log() {
      return daemon.log;
    },
    stop: daemon.stop,
    start: daemon.start,
    close: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes each zone to `zone<i>.zone` in `dir`, as BIND's zone files; returns each origin's file. */
function writeZones(dir: string, zones: ZoneSpec[]): { origin: string; file: string }[] {
  return zones.map((zone, i) => {
    const file = `zone${i}.zone`;
    writeFileSync(join(dir, file), zoneFile(zone));
    return { origin: zone.origin, file };
  });
}

/** `host@port` from `'127.0.0.1:PORT'`, as unbound, kresd and dnsmasq write a server. */
function at(nameserver: string, separator: string): string {
  const [host, port] = nameserver.split(':');
  return `${host}${separator}${port}`;
}

const UNBOUND = findProgram('/usr/sbin/unbound', '/usr/local/sbin/unbound');

/** unbound as a caching forwarder to BIND: the shape of NodeLocal DNSCache in front of CoreDNS. */
export const unbound: ServerKind = {
  name: 'unbound',
  kind: 'cache',
  program: UNBOUND,
  debianPackage: 'unbound',
  start(zones, upstream) {
    return launch(this, zones, (dir, port) => {
      const perZone = zones.flatMap((zone) => [
        `  domain-insecure: "${zone.origin}"`,
        // Without this, unbound answers private reverse zones (10.in-addr.arpa, ...) itself.
        `  local-zone: "${zone.origin}." nodefault`,
      ]);
      const forwards = zones.flatMap((zone) => [
        'forward-zone:',
        `  name: "${zone.origin}"`,
        `  forward-addr: ${at(upstream, '@')}`,
      ]);
      writeFileSync(
        join(dir, 'unbound.conf'),
        [
          'server:',
          `  interface: 127.0.0.1@${port}`,
          `  port: ${port}`,
          '  do-ip6: no',
          '  access-control: 127.0.0.0/8 allow',
          '  username: ""',
          '  chroot: ""',
          `  directory: "${dir}"`,
          `  pidfile: "${dir}/unbound.pid"`,
          '  use-syslog: no',
          '  logfile: ""',
          '  num-threads: 1',
          '  do-not-query-localhost: no',
          '  module-config: "iterator"',
          ...perZone,
          ...forwards,
          '',
        ].join('\n'),
      );
      return [UNBOUND ?? 'unbound', ['-d', '-c', join(dir, 'unbound.conf')]];
    });
  },
};

const KNOTD = findProgram('/usr/sbin/knotd', '/usr/local/sbin/knotd');

/** Knot DNS, authoritative, loaded with the same zone files as BIND. */
export const knot: ServerKind = {
  name: 'knot',
  kind: 'authoritative',
  program: KNOTD,
  debianPackage: 'knot',
  start(zones) {
    return launch(this, zones, (dir, port) => {
      const zoneLines = writeZones(dir, zones).flatMap(({ origin, file }) => [
        `  - domain: ${origin}`,
        `    file: ${file}`,
      ]);
      writeFileSync(
        join(dir, 'knot.conf'),
        [
          'server:',
          `    listen: [ 127.0.0.1@${port} ]`,
          `    rundir: ${dir}`,
          'database:',
          `    storage: ${dir}/db`,
          'log:',
          '  - target: stderr',
          '    any: warning',
          'template:',
          '  - id: default',
          `    storage: ${dir}`,
          '    semantic-checks: off',
          '    zonefile-sync: -1',
          '    journal-content: none',
          'zone:',
          ...zoneLines,
          '',
        ].join('\n'),
      );
      return [KNOTD ?? 'knotd', ['-c', join(dir, 'knot.conf')]];
    });
  },
};

const KRESD = findProgram('/usr/sbin/kresd', '/usr/local/sbin/kresd');

/** Knot Resolver as a caching forwarder to BIND. */
export const kresd: ServerKind = {
  name: 'kresd',
  kind: 'cache',
  program: KRESD,
  debianPackage: 'knot-resolver',
  start(zones, upstream) {
    return launch(this, zones, (dir, port) => {
      const names = zones.map((zone) => `'${zone.origin}'`).join(', ');
      const todnames = zones.map((zone) => `todname('${zone.origin}.')`).join(', ');
      writeFileSync(
        join(dir, 'kresd.conf'),
        [
          `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
          `cache.open(20 * MB, 'lmdb://${dir}/cache')`,
          `trust_anchors.set_insecure({ ${names} })`,
          `policy.add(policy.suffix(policy.STUB({ '${at(upstream, '@')}' }), { ${todnames} }))`,
          "trust_anchors.remove('.')",
          "modules.unload('ta_update'); modules.unload('priming'); modules.unload('detect_time_skew'); modules.unload('ta_signal_query')",
          '',
        ].join('\n'),
      );
      return [KRESD ?? 'kresd', ['-n', '-c', join(dir, 'kresd.conf'), dir]];
    });
  },
};

const DNSMASQ = findProgram('/usr/sbin/dnsmasq', '/usr/local/sbin/dnsmasq');

/** dnsmasq as a caching forwarder to BIND. */
export const dnsmasq: ServerKind = {
  name: 'dnsmasq',
  kind: 'cache',
  program: DNSMASQ,
  debianPackage: 'dnsmasq',
  start(zones, upstream) {
    return launch(this, zones, (dir, port) => {
      writeFileSync(
        join(dir, 'dnsmasq.conf'),
        [
          `port=${port}`,
          'listen-address=127.0.0.1',
          'bind-interfaces',
          'no-resolv',
          'no-hosts',
          ...zones.map((zone) => `server=/${zone.origin}/${at(upstream, '#')}`),
          'cache-size=10000',
          `pid-file=${dir}/dnsmasq.pid`,
          'user=root',
          '',
        ].join('\n'),
      );
      return [DNSMASQ ?? 'dnsmasq', ['-k', '-C', join(dir, 'dnsmasq.conf')]];
    });
  },
};

const PDNS = findProgram('/usr/sbin/pdns_server', '/usr/local/sbin/pdns_server');

/** PowerDNS, authoritative, with its bind backend reading the same zone files as BIND. */
export const powerdns: ServerKind = {
  name: 'powerdns',
  kind: 'authoritative',
  program: PDNS,
  debianPackage: 'pdns-server pdns-backend-bind',
  start(zones) {
    return launch(this, zones, (dir, port) => {
      const named = writeZones(dir, zones).map(
        ({ origin, file }) => `zone "${origin}" { type master; file "${join(dir, file)}"; };`,
      );
      writeFileSync(join(dir, 'named.conf'), `${named.join('\n')}\n`);
      writeFileSync(
        join(dir, 'pdns.conf'),
        [
          'launch=bind',
          `bind-config=${join(dir, 'named.conf')}`,
          `local-address=127.0.0.1:${port}`,
          'daemon=no',
          'guardian=no',
          `socket-dir=${dir}`,
          'disable-syslog=yes',
          'loglevel=3',
          '',
        ].join('\n'),
      );
      return [PDNS ?? 'pdns_server', [`--config-dir=${dir}`]];
    });
  },
};

/** Every other server, in the order the interop tables list them. */
export const SERVER_KINDS: readonly ServerKind[] = [unbound, knot, kresd, dnsmasq, powerdns];
