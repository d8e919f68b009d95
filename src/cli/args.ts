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
  json: boolean;
  help: boolean;
}

/** The flags every command takes. */
const FLAGS = {
  port: { type: 'string', short: 'p' },
  protocol: { type: 'string' },
  family: { type: 'string' },
  nameserver: { type: 'string', short: 'n', multiple: true },
  interval: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses `argv` (after the command) into positionals and checked options. */
export function parseCommandArgs(argv: string[]): { positionals: string[]; options: CliOptions } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(
      err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err),
    );
  }
  const { values, positionals } = parsed;
  const options: CliOptions = { json: values.json ?? false, help: values.help ?? false };
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
  return { positionals, options };
}

function number(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag}: expected an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
