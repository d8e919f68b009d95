#!/usr/bin/env node
import { DnsError } from '../wire/errors.js';
import { parseCommandArgs, UsageError } from './args.js';
import { resolveCommand, watchCommand } from './commands.js';
import { runDemo } from './demo.js';
import { dnsCommand } from './dns.js';

const COMMON = `Options:
  -p, --port <name|number>   a port name (SRV mode: _<name>._<protocol>.<service>) or a port number (A/AAAA mode)
      --protocol <proto>     SRV protocol label (default tcp)
      --family <4|6|0>       address family; 0 means both, IPv4 first (default 0)
  -n, --nameserver <addr>    nameserver, repeatable: 10.96.0.10, 127.0.0.1:5353, [::1]:53 (default /etc/resolv.conf)
      --json                 JSON output
  -h, --help                 this help`;

const MAIN_HELP = `Usage: headless-peers <command> [options]

Find the peers of a Kubernetes headless service through DNS, and follow them.

Commands:
  resolve <name>   look the peers up once and print them
  watch <name>     print peers joining, leaving and changing as it happens (Ctrl-C ends)
  demo             play a short story against an embedded cluster DNS (no cluster needed)
  dns              run the embedded cluster DNS as a process of its own, for demos and tests

Run 'headless-peers <command> --help' for a command's options.
Exit codes: 0 success, 1 DNS failure, 2 bad usage.
`;

const HELP: Record<string, string> = {
  resolve: `Usage: headless-peers resolve <name> [options]

Looks the peers of <name> up once. <name> is a service name, short (the search list of
/etc/resolv.conf applies) or fully qualified. Prints a table, or a JSON array with --json.
An empty service (NXDOMAIN/NODATA) prints no peers and exits 0; a DNS failure exits 1.

${COMMON}
`,
  watch: `Usage: headless-peers watch <name> [options]

Watches the peers of <name> and prints each event as it happens, one JSON object per line
with --json. A failed poll prints an error and keeps the membership. SIGINT/SIGTERM end it.

${COMMON}
      --interval <ms>        poll every <ms> instead of following the record TTL
`,
  demo: `Usage: headless-peers demo [--json]

Starts an embedded cluster DNS with a StatefulSet-like service and watches it through a
short story: 3 pods, scale to 5, a pod restart with a new IP, scale to 2, a DNS outage,
scale to 0; then five pods started at once form one cluster. Ends by itself; Ctrl-C ends
it at any time.
`,
  dns: `Usage: headless-peers dns [options]

Runs the embedded cluster DNS (what createClusterDns() starts in a test) as a process of its
own, for multi-process demos and integration tests. Prints its nameserver and its control
endpoint (one JSON object with --json), then answers until SIGINT/SIGTERM.

Options:
      --listen <port>           DNS port on 127.0.0.1, UDP and TCP (default 0: a free one)
      --control <port>          HTTP control endpoint on 127.0.0.1 (default 0: a free one)
      --ttl <seconds>           TTL of every record (default 5)
      --cluster-domain <domain> (default cluster.local)
      --pod <fields>            a pod, repeatable: service=kafka-headless,name=kafka-0,ip=10.0.0.1,port.kafka=9092
                                (also namespace=, ready=false, and ip= again for a second address)
      --json                    print {"nameserver", "control", "clusterDomain"} as one JSON line
  -h, --help                    this help

The control endpoint (JSON in and out):
  POST   /pods                               {"service","name","ip","ports":{"kafka":9092}}: add or replace
  DELETE /pods/<service>/<name or ip>        remove
  PUT    /pods/<service>/<name or ip>/ready  {"ready": false}
  PUT    /failure                            {"mode": "servfail" | "refused" | "silent" | null}
`,
};

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  const help = HELP[command];
  if (help === undefined || !Object.hasOwn(HELP, command)) {
    io.err.write(`headless-peers: unknown command ${JSON.stringify(command)}\n\n${MAIN_HELP}`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Watchers never keep a process alive by design; the CLI must stay until told to stop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    const { positionals, options } = parseCommandArgs(rest, command);
    if (options.help) {
      io.out.write(help);
      return 0;
    }
    if (command === 'demo') {
      if (positionals.length > 0) throw new UsageError(`demo: unexpected argument ${JSON.stringify(positionals[0])}`);
      return (await runDemo({ out: io.out, json: options.json, signal: stop.signal })) ? 0 : 130;
    }
    const stopped = new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    if (command === 'dns') {
      if (positionals.length > 0) throw new UsageError(`dns: unexpected argument ${JSON.stringify(positionals[0])}`);
      return await dnsCommand(options, { ...io, stopped });
    }
    const [name, extra] = positionals;
    if (name === undefined) throw new UsageError(`${command}: missing <name>, the service name to look up`);
    if (extra !== undefined) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(extra)}`);
    if (command === 'resolve') return await resolveCommand(name, options, { ...io, stopped });
    return await watchCommand(name, options, { ...io, stopped });
  } catch (err) {
    if (err instanceof UsageError || err instanceof TypeError) {
      io.err.write(`headless-peers ${command}: ${err.message}\n\nRun 'headless-peers ${command} --help' for usage.\n`);
      return 2;
    }
    if (err instanceof DnsError) {
      io.err.write(`headless-peers ${command}: ${err.message}\n`);
      return 1;
    }
    io.err.write(`headless-peers ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`headless-peers: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
