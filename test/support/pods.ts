import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const example = join(root, 'examples/cluster-bootstrap.ts');

/** What a pod of examples/cluster-bootstrap.ts decided. */
export interface Decision {
  name: string;
  action: 'form' | 'join';
  cluster: string | null;
  seeds: string;
  ms: number;
}

/** A pod process: its own address, its HTTP status endpoint, its bootstrap. */
export interface Pod {
  name: string;
  ip: string;
  /** Its decision; rejects if it exits first or takes over 30 s. */
  decision: Promise<Decision>;
  stop(): Promise<void>;
}

export interface PodSpec {
  name: string;
  ip: string;
  port: number;
  nameserver: string;
  min: number;
  stableFor: number;
}

/** Starts one pod of examples/cluster-bootstrap.ts as its own process. */
export function startPod(spec: PodSpec): Pod {
  const args = ['pod', spec.name, spec.ip, `${spec.port}`, spec.nameserver, `${spec.min}`, `${spec.stableFor}`];
  // tsx as a loader, not its CLI: the CLI runs the script in a child process of its own,
  // which a kill of the parent would leave behind, holding the pod's port.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', example, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const decision = new Promise<Decision>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name}: no decision within 30 s\n${stderr}`)), 30_000);
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Decision);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code}) before deciding\n${stderr}`));
    });
  });
  decision.catch(() => {});
  return {
    name: spec.name,
    ip: spec.ip,
    decision,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The clusters the pods ended in, and who formed. */
export function outcome(decisions: Decision[]): { clusters: number; formed: string[]; joined: string[] } {
  return {
    clusters: new Set(decisions.map((decision) => decision.cluster)).size,
    formed: decisions.filter((d) => d.action === 'form').map((d) => d.name),
    joined: decisions.filter((d) => d.action === 'join').map((d) => d.name),
  };
}
