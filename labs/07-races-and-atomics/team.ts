/**
 * A harness for this chapter's labs: a team of worker threads, started once and kept, that run a named
 * "body" together for many short rounds. Before each round the workers meet at a spin barrier — each adds
 * itself to a shared count and spins until all have arrived — so that, if the operating system is running
 * them at that moment, they start the round within a fraction of a microsecond of each other. With the
 * option untilAll, each worker also goes on working, in chunks of 100 operations, until every worker has
 * done its n: a worker that the system pauses then finds the others still at work when it resumes, so the
 * threads overlap even on a busy machine. After the round, worker 0 "settles" it: it reads what the round
 * left in shared memory, records it and resets it. Between calls the workers sleep in Atomics.wait, so an
 * idle team costs no CPU. Prints nothing by itself.
 *
 * A lab file uses it from both sides: the main thread calls Team.start(__filename, …); the worker branch of
 * the same file calls serveTeam(bodies).
 */
import { once } from 'node:events';
import { parentPort, Worker, workerData } from 'node:worker_threads';

/** What every worker runs in each round, and what worker 0 does once all have finished it. */
export interface Body {
  /** Runs in every worker, each round: `n` operations. `me` is the worker's index. Returns are summed per worker. */
  run(data: Int32Array, me: number, n: number): number;
  /**
   * Runs in worker 0 after every worker has finished the round: returns the round's result, resets data.
   * `ops[w]` is how many operations worker w did in the round (`n`, or more with untilAll).
   */
  settle(data: Int32Array, n: number, ops: number[]): number;
}

export interface Rounds {
  /** What settle() returned, one entry per round that ran. */
  results: number[];
  /** The sum of run()'s returns, per worker. */
  perWorker: number[];
  /** Wall time of the rounds themselves, barrier to barrier, as worker 0 saw it (ms). */
  ms: number;
  /** Operations done in all, by every worker in every round. */
  ops: number;
}

const TS_HOOK = ['--require', require.resolve('tsx/cjs')]; // so that the worker can load this .ts file too
const MAX_ROUNDS = 100_000;
// control cells
const COMMAND = 0; // bumped by the main thread for each call; -1 tells the workers to leave
const BODY = 1; // index of the body to run
const COUNT = 2; // rounds to run
const ARG = 3;
const FINISHED = 4; // workers that have finished the current call
const BARRIER = 5; // workers that have arrived at a barrier, counted up for ever
const STOP_EARLY = 6; // 1: stop at the first round whose result is not 0
const STOPPED = 7; // set by worker 0 when it stops early
const RAN = 8; // rounds actually run
const UNTIL_ALL = 9; // 1: every worker goes on until all have done n operations
const REACHED = 10; // workers that have done their n operations this round
const PER_WORKER = 11; // one cell per worker: the sum of its run() returns
const CHUNK = 100; // operations per run() call, with untilAll
const CAP_MS = 50; // with untilAll, nobody goes on longer than this after its own n
const LEAVE = -1;

interface Setup {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  results: SharedArrayBuffer;
  time: SharedArrayBuffer;
  size: number;
  me: number;
  names: string[];
}

export class Team {
  /** The memory every body works on: an Int32Array shared by all the team's workers and the main thread. */
  readonly data: Int32Array;
  private readonly control: Int32Array;
  private readonly results: Int32Array;
  private readonly time: Float64Array;
  private calls = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly workers: Worker[],
    private readonly names: string[],
    setup: Omit<Setup, 'me'>,
  ) {
    this.data = new Int32Array(setup.data);
    this.control = new Int32Array(setup.control);
    this.results = new Int32Array(setup.results);
    this.time = new Float64Array(setup.time);
    for (const worker of workers) worker.on('error', (error: Error) => (this.failure ??= error));
  }

  /** Starts `size` workers running `file` (which must call serveTeam in its worker branch) and waits for them. */
  static async start(file: string, size: number, names: string[], dataCells = 64): Promise<Team> {
    const setup = {
      control: new SharedArrayBuffer((PER_WORKER + 2 * size) * 4), // then one cell per worker: its ops
      data: new SharedArrayBuffer(dataCells * 4),
      results: new SharedArrayBuffer(MAX_ROUNDS * 4),
      time: new SharedArrayBuffer(16), // [ms, ops]
      size,
      names,
    };
    const workers = Array.from(
      { length: size },
      (_, me) => new Worker(file, { execArgv: TS_HOOK, workerData: { ...setup, me } satisfies Setup }),
    );
    const team = new Team(workers, names, setup);
    await Promise.all(workers.map((worker) => once(worker, 'message'))); // each says 'ready'
    return team;
  }

  /**
   * Runs `count` rounds of the body `name`, `n` operations per worker and round. Options: stopEarly stops
   * after the first round that settles non-zero; untilAll keeps every worker going until all have done n.
   */
  async rounds(
    name: string,
    count: number,
    n = 0,
    { stopEarly = false, untilAll = false }: { stopEarly?: boolean; untilAll?: boolean } = {},
  ): Promise<Rounds> {
    if (count > MAX_ROUNDS) throw new RangeError(`at most ${MAX_ROUNDS} rounds per call`);
    const c = this.control;
    Atomics.store(c, BODY, this.names.indexOf(name));
    Atomics.store(c, COUNT, count);
    Atomics.store(c, ARG, n);
    Atomics.store(c, STOP_EARLY, stopEarly ? 1 : 0);
    Atomics.store(c, UNTIL_ALL, untilAll ? 1 : 0);
    Atomics.store(c, REACHED, 0);
    Atomics.store(c, STOPPED, 0);
    Atomics.store(c, FINISHED, 0);
    for (let w = 0; w < this.workers.length; w++) Atomics.store(c, PER_WORKER + w, 0);
    Atomics.store(c, COMMAND, ++this.calls);
    Atomics.notify(c, COMMAND);
    const deadline = performance.now() + 60_000; // a lab must never hang
    for (;;) {
      const finished = Atomics.load(c, FINISHED);
      if (finished === this.workers.length) break;
      if (this.failure) throw this.failure;
      if (performance.now() > deadline) {
        throw new Error(
          `rounds of '${name}' did not finish within 60 s: the machine is too busy, or a worker is stuck`,
        );
      }
      const wait = Atomics.waitAsync(c, FINISHED, finished, 100);
      if (wait.async) await wait.value; // keeps the event loop turning, so that a worker's 'error' reaches us
    }
    const ran = Atomics.load(c, RAN);
    return {
      results: Array.from(this.results.subarray(0, ran)),
      perWorker: this.workers.map((_, w) => Atomics.load(c, PER_WORKER + w)),
      ms: this.time[0]!,
      ops: this.time[1]!,
    };
  }

  /** Tells every worker to leave its loop and waits until each thread has exited. */
  async close(): Promise<void> {
    Atomics.store(this.control, COMMAND, LEAVE);
    Atomics.notify(this.control, COMMAND);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** The worker side: call it in the lab's worker branch with the lab's bodies. Returns when the team closes. */
export function serveTeam(bodies: Record<string, Body>): void {
  const setup = workerData as Setup;
  const c = new Int32Array(setup.control);
  const data = new Int32Array(setup.data);
  const results = new Int32Array(setup.results);
  const time = new Float64Array(setup.time);
  const { size, me } = setup;
  let crossed = 0; // barriers this worker has passed: all workers pass the same ones, in the same order
  const barrier = (): void => {
    crossed += size;
    if (Atomics.add(c, BARRIER, 1) + 1 === crossed) {
      Atomics.notify(c, BARRIER); // the last to arrive wakes any that gave up spinning
      return;
    }
    // Spin, so that everyone leaves at once; but after ~200,000 tries (about a millisecond), the others are
    // not running at all (a busy machine): sleep until the last one arrives rather than burn our time slice.
    for (let spins = 0; ; spins++) {
      const arrived = Atomics.load(c, BARRIER);
      if (arrived >= crossed) return;
      if (spins > 200_000) Atomics.wait(c, BARRIER, arrived, 10);
    }
  };
  parentPort!.postMessage('ready');
  for (let seen = 0; ;) {
    while (Atomics.load(c, COMMAND) === seen) Atomics.wait(c, COMMAND, seen);
    seen = Atomics.load(c, COMMAND);
    if (seen === LEAVE) return;
    const body = bodies[setup.names[Atomics.load(c, BODY)]!]!;
    const count = Atomics.load(c, COUNT);
    const n = Atomics.load(c, ARG);
    const untilAll = Atomics.load(c, UNTIL_ALL) === 1;
    const OPS = PER_WORKER + size;
    let own = 0;
    let ms = 0;
    let totalOps = 0;
    let round = 0;
    while (round < count) {
      barrier();
      const start = performance.now();
      let ops = 0;
      if (!untilAll) {
        own += body.run(data, me, n);
        ops = n;
      } else {
        let reached = false;
        while (!reached || (Atomics.load(c, REACHED) < size && performance.now() - start < CAP_MS)) {
          own += body.run(data, me, CHUNK);
          ops += CHUNK;
          if (!reached && ops >= n) {
            reached = true;
            Atomics.add(c, REACHED, 1);
          }
        }
      }
      Atomics.store(c, OPS + me, ops);
      barrier();
      ms += performance.now() - start;
      if (me === 0) {
        const roundOps = Array.from({ length: size }, (_, w) => Atomics.load(c, OPS + w));
        totalOps += roundOps.reduce((x, y) => x + y, 0);
        const result = body.settle(data, n, roundOps);
        Atomics.store(c, REACHED, 0);
        results[round] = result;
        if (result !== 0 && Atomics.load(c, STOP_EARLY) === 1) Atomics.store(c, STOPPED, 1);
      }
      round++;
      barrier();
      if (Atomics.load(c, STOPPED) === 1) break;
    }
    Atomics.store(c, PER_WORKER + me, own);
    if (me === 0) {
      Atomics.store(c, RAN, round);
      time[0] = ms;
      time[1] = totalOps;
    }
    Atomics.add(c, FINISHED, 1);
    Atomics.notify(c, FINISHED);
  }
}

/** Runs a lab's main function; if it fails, prints why (no stack trace) and sets a failing exit code. */
export function runLab(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.log(`stopped: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
