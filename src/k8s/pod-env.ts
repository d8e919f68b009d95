import { readFileSync } from 'node:fs';

/** Where Kubernetes mounts the pod's namespace. */
export const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The namespace this pod runs in: the service-account file, then `POD_NAMESPACE`,
 * else `'default'`.
 */
export function podNamespace(file = NAMESPACE_FILE, env: NodeJS.ProcessEnv = process.env): string {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text !== '') return text;
  } catch {
    // Not in a pod, or no service account mounted: fall through.
  }
  const fromEnv = env.POD_NAMESPACE?.trim();
  return fromEnv ? fromEnv : 'default';
}

/**
 * The cluster domain as the pod's search list shows it (`svc.<domain>` is always there
 * in a pod), else `'cluster.local'`.
 */
export function clusterDomainOf(search: readonly string[]): string {
  for (const suffix of search) {
    if (suffix.startsWith('svc.') && suffix.length > 4) return suffix.slice(4);
  }
  return 'cluster.local';
}
