import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../support/daemon.js';
import { type Decision, outcome, type Pod, startPod } from '../support/pods.js';

/** Where the pods' records live: the embedded cluster DNS or BIND 9. */
export interface PodRecords {
  nameserver: string;
  add(name: string, ip: string, port: number): Promise<void>;
  remove(name: string, ip: string, port: number): Promise<void>;
  close(): Promise<void>;
}

export const SERVICE = 'cluster-headless';
const TRIALS = 20;
const STABLE_FOR = 500;

/**
 * Five pods (processes of examples/cluster-bootstrap.ts, each on its own address of `net`)
 * started together while their records appear at random moments within a second: exactly
 * one forms, the lowest, and four join it. Then the restart cases.
 */
export function formationTests(label: string, net: string, open: () => Promise<PodRecords>): void {
  let records: PodRecords;
  let port: number;
  const running: Pod[] = [];
  const ip = (i: number) => `${net}.${i + 1}`;

  beforeAll(async () => {
    records = await open();
    port = await freePort();
  });

  afterAll(async () => {
    await Promise.all(running.splice(0).map((pod) => pod.stop()));
    await records?.close();
  });

  function start(i: number, min: number): Pod {
    const pod = startPod({
      name: `node-${i}`,
      ip: ip(i),
      port,
      nameserver: records.nameserver,
      min,
      stableFor: STABLE_FOR,
    });
    running.push(pod);
    return pod;
  }

  /** Starts pods `ids` at once, their records appearing at random moments of the next second. */
  async function startTogether(ids: number[], min: number): Promise<Decision[]> {
    const pods = ids.map((i) => start(i, min));
    await Promise.all(
      ids.map(async (i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
        await records.add(`node-${i}`, ip(i), port);
      }),
    );
    return Promise.all(pods.map((pod) => pod.decision));
  }

  async function stopAll(ids: number[], removeRecords: boolean): Promise<void> {
    await Promise.all(running.splice(0).map((pod) => pod.stop()));
    if (removeRecords) for (const i of ids) await records.remove(`node-${i}`, ip(i), port);
  }

  const five = [0, 1, 2, 3, 4];

  it(`${TRIALS} trials of five pods started together: one cluster each time, formed by the lowest`, async () => {
    const trials: ReturnType<typeof outcome>[] = [];
    const times: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const decisions = await startTogether(five, 5);
      trials.push(outcome(decisions));
      times.push(...decisions.map((decision) => decision.ms));
      await stopAll(five, true);
    }
    const splitBrains = trials.filter((trial) => trial.clusters !== 1).length;
    const byLowest = trials.filter((t) => t.formed.length === 1 && t.formed[0] === 'node-0').length;
    times.sort((a, b) => a - b);
    console.info(
      `${label}: ${trials.length} trials, ${splitBrains} split brains, formed by node-0 alone in ${byLowest}; ` +
        `decision ${times[0]}-${times.at(-1)} ms after start, median ${times[Math.floor(times.length / 2)]} ms`,
    );
    expect(splitBrains).toBe(0);
    expect(byLowest).toBe(TRIALS);
    for (const trial of trials) expect(trial.joined).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
  }, 300_000);

  it('a restarted lowest pod joins the cluster that exists; a whole-cluster restart forms exactly one', async () => {
    const first = outcome(await startTogether(five, 5));
    expect(first).toMatchObject({ clusters: 1, formed: ['node-0'] });
    // node-0 dies and comes back with its record still there: it is the lowest, but joins.
    const node0 = running.shift() as Pod;
    await node0.stop();
    const again = await start(0, 5).decision;
    expect(again).toMatchObject({ action: 'join' });
    expect(again.seeds.split(' ').sort()).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    // Every pod restarts: one cluster again, formed by the lowest.
    await stopAll(five, true);
    expect(outcome(await startTogether(five, 5))).toMatchObject({ clusters: 1, formed: ['node-0'] });
    await stopAll(five, true);
  }, 120_000);

  it('a scale-up from 3 to 5 never forms', async () => {
    const three = await startTogether([0, 1, 2], 3);
    expect(outcome(three)).toMatchObject({ clusters: 1, formed: ['node-0'] });
    const more = await startTogether([3, 4], 3);
    expect(more.map((decision) => [decision.action, decision.cluster])).toEqual([
      ['join', three[0]?.cluster],
      ['join', three[0]?.cluster],
    ]);
    await stopAll(five, true);
  }, 120_000);
}
