/**
 * A small helper the chapter's labs share: a team of long-lived worker threads that all run the lab's own
 * file and are driven in rounds. In each round every member gets a task, the members wait at a spin gate
 * until all of them have arrived (so they really start together, on different cores), run the lab's
 * handler, and send its result back. Not a lab itself: the labs import it.
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** So that a worker can load TypeScript under `npx tsx` (chapter 01: tsx's loader does not reach workers). */
export const TS_HOOK = ['--require', require.resolve('tsx/cjs')];

export interface Member {
  index: number; // 0 … size - 1
  size: number;
  view: Int32Array; // over the team's SharedArrayBuffer
}

export interface Team {
  /** Runs one round: member i gets tasks[i] (or `tasks` itself if it is not an array), results in order. */
  round<R>(tasks: unknown): Promise<R[]>;
  /** Terminates every member, even one that is stuck, and waits until they have exited. */
  stop(): Promise<void>;
}

interface Start {
  index: number;
  size: number;
  shared: SharedArrayBuffer;
  gate: SharedArrayBuffer;
}

/** Starts `size` workers running `file` (which must call `joinTeam`), all sharing `shared`. */
export async function startTeam(file: string, size: number, shared: SharedArrayBuffer): Promise<Team> {
  const gate = new SharedArrayBuffer(8);
  const workers = Array.from(
    { length: size },
    (_, index) => new Worker(file, { execArgv: TS_HOOK, workerData: { index, size, shared, gate } satisfies Start }),
  );
  await Promise.all(workers.map((w) => once(w, 'online')));
  let rounds = 0;
  return {
    async round<R>(tasks: unknown): Promise<R[]> {
      const round = ++rounds;
      const replies = workers.map(async (w) => {
        const [reply] = (await once(w, 'message')) as [{ round: number; value?: R; error?: string }];
        if (reply.error !== undefined) throw new Error(reply.error);
        return reply.value as R;
      });
      const safety = setTimeout(() => {
        console.error(`a round took more than 60 s: stopping`);
        process.exit(1);
      }, 60_000);
      workers.forEach((w, i) => w.postMessage({ round, task: Array.isArray(tasks) ? tasks[i] : tasks }));
      try {
        return await Promise.all(replies);
      } finally {
        clearTimeout(safety);
      }
    },
    async stop(): Promise<void> {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Inside a round: the members meet here before trial `k` (1, 2, 3, …) and leave together. Uses cells `at`
 * (how many have arrived, over all trials) and `at + 1` (the trial that is open) of `view`, both 0 at first.
 */
export function spinGate(view: Int32Array, at: number, size: number, k: number): void {
  if (Atomics.add(view, at, 1) + 1 === size * k) Atomics.store(view, at + 1, k);
  else while (Atomics.load(view, at + 1) < k);
}

/** Called by the lab's file in each worker: `handle` runs once per round, after the spin gate opens. */
export function joinTeam(handle: (task: unknown, member: Member) => unknown): void {
  if (isMainThread) throw new Error('joinTeam is for worker threads');
  const { index, size, shared, gate } = workerData as Start;
  const member: Member = { index, size, view: new Int32Array(shared) };
  const counters = new Int32Array(gate); // [members arrived, in all rounds; the round that is open]
  parentPort!.on('message', ({ round, task }: { round: number; task: unknown }) => {
    if (Atomics.add(counters, 0, 1) + 1 === size * round) Atomics.store(counters, 1, round);
    else while (Atomics.load(counters, 1) < round); // spin: everyone starts at the same moment
    try {
      parentPort!.postMessage({ round, value: handle(task, member) });
    } catch (error) {
      parentPort!.postMessage({ round, error: `thread ${index}: ${(error as Error).message}` });
    }
  });
}
