import { parseArgs } from 'node:util';

/** A usage error: exit code 2, message names the flag and the bad value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliOptions {
  port?: string | number;
  protocol?: string;
  family?: 0 | 4 | 6;
  nameservers?: string[];
  interval?: number;
  /** dns: the DNS port, the control endpoint's port, the TTL, the cluster domain, pods. */
  listen?: number;
  control?: number;
  ttl?: number;
  clusterDomain?: string;
  pods: PodFlag[];
  json: boolean;
  help: boolean;
}

/** A pod given with `--pod service=...,name=...,ip=...,port.<name>=<port>`. */
export interface PodFlag {
  service: string;
  namespace?: string;
  name?: string;
  ip: string[];
  ports: Record<string, number>;
  ready?: boolean;
}

/** Every flag of every command. */
const FLAGS = {
  port: { type: 'string', short: 'p' },
  protocol: { type: 'string' },
  family: { type: 'string' },
  nameserver: { type: 'string', short: 'n', multiple: true },
  interval: { type: 'string' },
  listen: { type: 'string' },
  control: { type: 'string' },
  ttl: { type: 'string' },
  'cluster-domain': { type: 'string' },
  pod: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof FLAGS;

const LOOKUP: Flag[] = ['port', 'protocol', 'family', 'nameserver', 'json', 'help'];

/** The flags each command takes: any other is a usage error, not silently ignored. */
export const COMMAND_FLAGS: Record<string, readonly Flag[]> = {
  resolve: LOOKUP,
  watch: [...LOOKUP, 'interval'],
  demo: ['json', 'help'],
  dns: ['listen', 'control', 'ttl', 'cluster-domain', 'pod', 'json', 'help'],
};

/** Parses `argv` (after the command) into positionals and checked options. */
export function parseCommandArgs(argv: string[], command: string): { positionals: string[]; options: CliOptions } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(
      err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err),
    );
  }
  const { values, positionals } = parsed;
  const allowed = COMMAND_FLAGS[command] ?? [];
  for (const flag of Object.keys(values)) {
    if (!allowed.includes(flag as Flag)) throw new UsageError(`--${flag}: not an option of ${command}`);
  }
  const options: CliOptions = { json: values.json ?? false, help: values.help ?? false, pods: [] };
  if (values.port !== undefined) {
    options.port = /^\d+$/.test(values.port) ? number('--port', values.port, 1, 65535) : values.port;
  }
  if (values.protocol !== undefined) options.protocol = values.protocol;
  if (values.family !== undefined) {
    const family = Number(values.family);
    if (values.family.trim() === '' || (family !== 0 && family !== 4 && family !== 6)) {
      throw new UsageError(`--family: expected 4, 6 or 0, got ${JSON.stringify(values.family)}`);
    }
    options.family = family;
  }
  if (values.nameserver !== undefined) options.nameservers = values.nameserver;
  if (values.interval !== undefined) options.interval = number('--interval', values.interval, 1, 86_400_000);
  if (values.listen !== undefined) options.listen = number('--listen', values.listen, 0, 65535);
  if (values.control !== undefined) options.control = number('--control', values.control, 0, 65535);
  if (values.ttl !== undefined) options.ttl = number('--ttl', values.ttl, 0, 2_147_483_647);
  if (values['cluster-domain'] !== undefined) options.clusterDomain = values['cluster-domain'];
  options.pods = (values.pod ?? []).map(parsePod);
  return { positionals, options };
}

/**
 * `service=kafka-headless,name=kafka-0,ip=10.0.0.1,port.kafka=9092` (also `namespace=`,
 * `ready=false`, and `ip=` again for a second address).
 */
export function parsePod(text: string): PodFlag {
  const pod: PodFlag = { service: '', ip: [], ports: {} };
  for (const field of text.split(',')) {
    const at = field.indexOf('=');
    const key = field.slice(0, at).trim();
    const value = field.slice(at + 1).trim();
    if (at <= 0 || value === '') throw new UsageError(`--pod: expected key=value fields, got ${JSON.stringify(field)}`);
    if (key === 'service') pod.service = value;
    else if (key === 'namespace') pod.namespace = value;
    else if (key === 'name') pod.name = value;
    else if (key === 'ip') pod.ip.push(value);
    else if (key === 'ready') pod.ready = value !== 'false';
    else if (key.startsWith('port.') && key.length > 5)
      pod.ports[key.slice(5)] = number(`--pod ${key}`, value, 1, 65535);
    else
      throw new UsageError(
        `--pod: unknown field ${JSON.stringify(key)} (service, name, ip, port.<name>, namespace, ready)`,
      );
  }
  if (pod.service === '' || pod.ip.length === 0) {
    throw new UsageError(`--pod: needs service= and ip=, got ${JSON.stringify(text)}`);
  }
  return pod;
}

function number(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag}: expected an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
