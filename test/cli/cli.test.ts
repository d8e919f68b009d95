import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePeers } from '../../src/index.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type Ran, root, runTs, spawnTs } from '../support/child.js';

const CLI = join(root, 'src/cli/main.ts');

type Result = Ran;

const cli = (args: string[], env: Record<string, string> = {}): Promise<Result> => runTs([CLI, ...args], { env });

/** Starts the CLI, waits until its output matches `ready`, sends `signal`, and collects the rest. */
function interrupt(args: string[], ready: RegExp, signal: NodeJS.Signals = 'SIGINT'): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawnTs([CLI, ...args]);
    let out = '';
    let err = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 20 s; output so far:\n${out}\n${err}`));
    }, 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!sent && ready.test(out)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('headless-peers CLI', () => {
  let dns: ClusterDns;
  const NAME = 'kafka-headless.default.svc.cluster.local.';
  beforeAll(async () => {
    dns = await createClusterDns();
    for (let i = 0; i < 3; i++)
      dns.addPod('kafka-headless', { name: `kafka-${i}`, ip: `10.0.0.${i + 1}`, ports: { kafka: 9092 } });
    dns.addService('empty');
  });
  afterAll(() => dns.close());

  it('prints help and exits 0, or 2 with no command', async () => {
    expect(await cli(['--help'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^Usage: headless-peers <command>/),
    });
    const commands = ['resolve', 'watch', 'demo'];
    const results = await Promise.all(commands.map((command) => cli([command, '--help'])));
    for (const [i, command] of commands.entries()) {
      expect(results[i]?.code).toBe(0);
      expect(results[i]?.out).toMatch(new RegExp(`^Usage: headless-peers ${command}`));
    }
    expect((await cli([])).code).toBe(2);
  });

  it('exits 2 on bad usage, naming the flag and the bad value', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['resolve'], /missing <name>/],
      [['resolve', 'a', 'b'], /unexpected argument "b"/],
      [['resolve', NAME, '--family', '5'], /--family: expected 4, 6 or 0, got "5"/],
      [['resolve', NAME, '--port', '99999'], /--port: expected an integer in 1\.\.65535, got "99999"/],
      [['watch', NAME, '--interval', 'soon'], /--interval: .*"soon"/],
      [['resolve', NAME, '--bogus'], /--bogus/],
      [['resolve', NAME, '--nameserver', 'not-an-ip'], /nameservers: "not-an-ip"/],
      [['resolve', NAME, '--port', 'bad_name!'], /port: /],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i]?.code, args.join(' ')).toBe(2);
      expect(results[i]?.err).toMatch(message);
    }
  });

  it('resolve prints a table, or a JSON array with --json', async () => {
    const table = await cli(['resolve', NAME, '--port', 'kafka', '--nameserver', dns.nameserver]);
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^\s+NAME\s+ADDRESSES\s+PORT\s+ORDINAL\s+PRIO\/WEIGHT$/);
    expect(table.out).toMatch(/kafka-2\.kafka-headless\.default\.svc\.cluster\.local\s+10\.0\.0\.3\s+9092\s+2\s+0\/33/);
    const json = await cli(['resolve', NAME, '-p', 'kafka', '-n', dns.nameserver, '--json']);
    expect(JSON.parse(json.out).map((peer: { id: string }) => peer.id)).toEqual(
      [0, 1, 2].map((i) => `kafka-${i}.kafka-headless.default.svc.cluster.local:9092`),
    );
    const addresses = await cli(['resolve', NAME, '--port', '5432', '--family', '4', '-n', dns.nameserver, '--json']);
    expect(JSON.parse(addresses.out).map((peer: { id: string }) => peer.id)).toEqual([
      '10.0.0.1:5432',
      '10.0.0.2:5432',
      '10.0.0.3:5432',
    ]);
  });

  it('resolve exits 0 with no peers for an empty service, and 1 on a DNS failure', async () => {
    const empty = await cli(['resolve', 'empty.default.svc.cluster.local.', '-n', dns.nameserver, '--json']);
    expect(empty).toMatchObject({ code: 0 });
    expect(JSON.parse(empty.out)).toEqual([]);
    const silent = await createClusterDns();
    silent.setFailure('refused');
    try {
      const failed = await cli(['resolve', NAME, '-n', silent.nameserver]);
      expect(failed.code).toBe(1);
      expect(failed.err).toMatch(/EREFUSED/);
    } finally {
      await silent.close();
    }
  });

  it('watch prints JSON lines and ends cleanly on SIGINT and SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const result = await interrupt(
        ['watch', NAME, '-p', 'kafka', '-n', dns.nameserver, '--json'],
        /(peer-joined[\s\S]*){3}/,
        signal,
      );
      expect(result.code, result.err).toBe(0);
      expect(result.err).toBe('');
      const lines = result.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.slice(0, 3)).toEqual(
        [0, 1, 2].map((i) =>
          expect.objectContaining({
            event: 'peer-joined',
            time: expect.any(String),
            peer: expect.objectContaining({ ordinal: i }),
          }),
        ),
      );
    }
  });

  it('watch prints readable lines when not in JSON mode', async () => {
    const result = await interrupt(['watch', NAME, '-p', 'kafka', '-n', dns.nameserver], /kafka-2/);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}\+ joined {3}kafka-0\.kafka-headless\.default\.svc\.cluster\.local:9092 {2}10\.0\.0\.1$/m,
    );
    expect(result.out.includes('\u001b[')).toBe(false); // no colour codes into a pipe
  });

  it('demo plays the whole story and ends by itself', async () => {
    const started = performance.now();
    const result = await cli(['demo', '--json']);
    expect(result.code, result.err).toBe(0);
    expect(performance.now() - started).toBeLessThan(30_000);
    const events = result.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; reason?: string; peer?: { address: string } });
    const count = (event: string, reason?: string) =>
      events.filter((e) => e.event === event && (reason === undefined || e.reason === reason)).length;
    expect(count('peer-joined')).toBe(5);
    expect(events.some((e) => e.event === 'peer-updated' && e.peer?.address === '10.244.3.77')).toBe(true);
    expect(count('peer-left', 'absent')).toBe(3);
    expect(count('error')).toBeGreaterThanOrEqual(3);
    expect(count('peer-left', 'empty')).toBe(2);
    // Nothing left during the outage: every leave is either the scale-down or the final empty.
    const outage = events.findIndex((e) => e.event === 'step' && /outage/.test(JSON.stringify(e)));
    const back = events.findIndex((e) => e.event === 'step' && /scale to 0/.test(JSON.stringify(e)));
    expect(events.slice(outage, back).filter((e) => e.event === 'peer-left')).toEqual([]);
    // Five pods started together: node-0 formed the one cluster, four joined it.
    const decisions = events.filter((e) => e.event === 'bootstrap') as unknown as {
      pod: string;
      action: string;
      cluster: string;
    }[];
    expect(decisions.map((d) => [d.pod, d.action, d.cluster])).toEqual([
      ['node-0', 'form', 'node-0'],
      ...[1, 2, 3, 4].map((i) => [`node-${i}`, 'join', 'node-0']),
    ]);
  });

  it('resolve of a name that does not exist says so, and lists the names it asked; NODE_DEBUG logs them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hp-cli-'));
    const conf = join(dir, 'resolv.conf');
    writeFileSync(
      conf,
      `nameserver ${dns.nameserver}\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n`,
    );
    try {
      const result = await cli(['resolve', 'kafak-headless', '--port', 'kafka'], {
        HEADLESS_PEERS_RESOLV_CONF: conf,
        NODE_DEBUG: 'headless-peers',
      });
      expect(result.code).toBe(0);
      expect(result.out).toBe(
        [
          'kafak-headless: no such service, or no ready pods. Asked, NXDOMAIN or NODATA each:',
          '  _kafka._tcp.kafak-headless.default.svc.cluster.local',
          '  _kafka._tcp.kafak-headless.svc.cluster.local',
          '  _kafka._tcp.kafak-headless',
          '',
        ].join('\n'),
      );
      expect(result.err).toMatch(
        /kafak-headless: no such service, or no ready pods; asked _kafka\._tcp\.kafak-headless\.default\.svc\.cluster\.local \(nxdomain\), /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a flag of another command, naming it', async () => {
    const result = await cli(['resolve', NAME, '--pod', 'service=x,ip=10.0.0.1']);
    expect(result).toMatchObject({ code: 2, err: expect.stringContaining('--pod: not an option of resolve') });
  });

  it('dns runs the embedded cluster DNS as its own process: pods from flags and the control endpoint, until SIGTERM', async () => {
    const child = spawnTs([
      CLI,
      'dns',
      '--json',
      '--ttl',
      '1',
      '--pod',
      'service=web,name=web-0,ip=10.1.0.1,port.http=8080',
    ]);
    try {
      const [line] = (await once(createInterface({ input: child.stdout ?? process.stdin }), 'line')) as [string];
      const { nameserver, control } = JSON.parse(line) as { nameserver: string; control: string };
      const lookup = async () =>
        (await resolvePeers({ name: 'web.default.svc.cluster.local.', port: 'http', nameservers: [nameserver] })).map(
          (peer) => `${peer.name?.split('.')[0]} ${peer.address}`,
        );
      expect(await lookup()).toEqual(['web-0 10.1.0.1']);
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${control}${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return [response.status, await response.json()];
      };
      expect(
        await call('POST', '/pods', { service: 'web', name: 'web-1', ip: '10.1.0.2', ports: { http: 8080 } }),
      ).toEqual([200, { added: 'web' }]);
      expect(await lookup()).toEqual(['web-0 10.1.0.1', 'web-1 10.1.0.2']);
      expect(await call('PUT', '/pods/web/web-0/ready', { ready: false })).toEqual([
        200,
        { pod: 'web-0', ready: false },
      ]);
      expect(await lookup()).toEqual(['web-1 10.1.0.2']);
      expect(await call('DELETE', '/pods/web/web-1')).toEqual([200, { removed: 'web-1' }]);
      expect(await lookup()).toEqual([]);
      expect(await call('DELETE', '/pods/web/web-9')).toEqual([404, { error: 'no pod web-9 in service web' }]);
      const [status, body] = await call('POST', '/pods', { service: 'web', ip: 'not-an-ip' });
      expect([status, (body as { error: string }).error]).toEqual([400, expect.stringMatching(/^ip: /)]);
      expect(await call('PUT', '/failure', { mode: 'refused' })).toEqual([200, { failure: 'refused' }]);
      await expect(lookup()).rejects.toMatchObject({ code: 'EREFUSED' });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('dns refuses a bad --pod with exit code 2 and a message naming the field', async () => {
    const result = await cli(['dns', '--pod', 'service=web,name=web-0,ip=10.1.0.1,port.http=eighty']);
    expect(result).toMatchObject({ code: 2, err: expect.stringContaining('--pod port.http: expected an integer') });
    const bad = await cli(['dns', '--pod', 'service=web,ip=999.1.1.1']);
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('ip: expected an IPv4 or IPv6 address') });
  });

  it('demo ends cleanly on Ctrl-C', async () => {
    const result = await interrupt(['demo'], /scale to 5/);
    expect(result.code).toBe(130);
    expect(result.err).toBe('');
  });
});
