import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startDaemon } from './daemon.js';

/** The `named` binary, or undefined when BIND 9 is not installed. */
export function findNamed(): string | undefined {
  for (const candidate of ['/usr/sbin/named', '/usr/local/sbin/named']) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v named'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `nsupdate`, next to named. */
export function findNsupdate(): string | undefined {
  for (const candidate of ['/usr/bin/nsupdate', '/usr/local/bin/nsupdate']) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** A zone served by the test server: its origin and the records (zone-file lines after the SOA/NS). */
export interface ZoneSpec {
  origin: string;
  records: string[];
  /** The records' TTL and the negative-caching TTL (SOA minimum), seconds. @default 5 */
  ttl?: number;
}

export interface BindServer {
  port: number;
  nameserver: string;
  /** Sends one dynamic update (nsupdate commands, without server/zone/send). */
  update(zone: string, commands: string[]): Promise<void>;
  /** Stops named (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts named again on the same port with the same configuration and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The zone file of `zone`, as BIND, Knot DNS and PowerDNS read it. */
export function zoneFile(zone: ZoneSpec): string {
  return [
    `$ORIGIN ${zone.origin}.`,
    `$TTL ${zone.ttl ?? 5}`,
    `@ IN SOA ns.${zone.origin}. hostmaster.${zone.origin}. 1 7200 1800 86400 ${zone.ttl ?? 5}`,
    // Every zone names the one server ns.cluster.local (which the first zone holds).
    '@ IN NS ns.cluster.local.',
    ...(zone.origin === 'cluster.local' ? ['ns IN A 127.0.0.1'] : []),
    ...zone.records,
    '',
  ].join('\n');
}

/**
 * Starts BIND 9 on a free loopback port, serving `zones` like cluster DNS: authoritative
 * only, Additional records for SRV targets, no cap on record sets, dynamic updates from
 * 127.0.0.1.
 */
export async function startBind(named: string, zones: ZoneSpec[]): Promise<BindServer> {
  const dir = mkdtempSync(join(tmpdir(), 'headless-peers-bind-'));
  const port = await freePort();
  const zoneConfig = zones.map((zone, i) => {
    writeFileSync(join(dir, `zone${i}.db`), zoneFile(zone));
    return `zone "${zone.origin}" { type primary; file "${join(dir, `zone${i}.db`)}"; allow-update { 127.0.0.1; }; };`;
  });
  writeFileSync(
    join(dir, 'named.conf'),
    `options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  lock-file "${join(dir, 'named.lock')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  minimal-responses no-auth;
  max-records-per-type 0;
  max-types-per-name 0;
  max-udp-size 4096;
  notify no;
  dnssec-validation no;
};
controls { };
${zoneConfig.join('\n')}
`,
  );
  const daemon = await startDaemon({
    name: 'named',
    command: named,
    args: ['-g', '-n', '1', '-c', join(dir, 'named.conf')],
    port,
    probe: `ns.${zones[0]?.origin ?? 'cluster.local'}`,
  });
  const nameserver = daemon.nameserver;

  return {
    port,
    nameserver,
    update: (zone, commands) =>
      new Promise<void>((resolve, reject) => {
        const nsupdate = findNsupdate() ?? 'nsupdate';
        const proc = spawn(nsupdate, [], { stdio: ['pipe', 'pipe', 'pipe'] });
        let output = '';
        proc.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        proc.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        proc.on('error', reject);
        proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate exited ${code}: ${output}`))));
        proc.stdin.end(`server 127.0.0.1 ${port}\nzone ${zone}\n${commands.join('\n')}\nsend\n`);
      }),
    stop: daemon.stop,
    start: daemon.start,
    close: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
