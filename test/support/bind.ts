import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsClient } from '../../src/wire/client.js';

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

/** A port free on 127.0.0.1 for both UDP and TCP (the OS picks it). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function zoneFile(zone: ZoneSpec): string {
  return [
    `$ORIGIN ${zone.origin}.`,
    '$TTL 5',
    `@ IN SOA ns.${zone.origin}. hostmaster.${zone.origin}. 1 7200 1800 86400 5`,
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
  let child: ChildProcess | undefined;
  let log = '';
  const nameserver = `127.0.0.1:${port}`;

  const start = async () => {
    log = '';
    const proc = spawn(named, ['-g', '-n', '1', '-c', join(dir, 'named.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child = proc;
    const client = new DnsClient({ nameservers: [nameserver], timeout: 200, attempts: 1, search: [], ndots: 1 });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`named exited with ${proc.exitCode}:\n${log}`);
        try {
          await client.query(`ns.${zones[0]?.origin ?? 'cluster.local'}`, 'A');
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`named did not answer within 15 s: ${String(err)}\n${log}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      client.close();
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
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
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
