import assert from 'node:assert/strict';
import path from 'node:path';
// First: records the worker threads the graded code starts, so leaked ones can be stopped after each test.
import { liveWorkers, stopLeakedWorkers } from '../../support/worker-tracker';
import { createPool, type Pool, type PoolOptions } from '@target/05-threads/worker-pool';
import { scaled, waitUntil, within } from '../../support/deadline';

/** The worker file the pools run: it speaks the exercise's protocol (see its header for the tasks). */
const WORKER_FILE = path.join(__dirname, 'fixtures', 'task-worker.js');
/** How long a worker may take to start a task, or a call to settle, on a loaded machine before "never". */
const WAIT_MS = 8000;
/** Jest's limit for one test (stretched on a slower machine, as the deadlines above are). */
const TEST_MS = scaled(30000);

/** Int32 slots of the shared board, as in fixtures/task-worker.js. */
const RUNNING = 0;
const PEAK = 1;
const STARTED = 64;
/** How a held task ends, stored in its gate. */
const END = { finish: 1, throw: 2, exit: 3, crash: 4 } as const;

interface Value {
  label: string;
  threadId: number;
}
type Outcome = { value: unknown } | { error: unknown };

/** A task handed to run(), and what became of it. */
interface Submitted {
  label: string;
  /** Settles with what run() did; never rejects, so no rejection is left unhandled. */
  outcome: Promise<Outcome>;
  settled: () => boolean;
  /** What run() did so far, in words (for failure messages). */
  sofar: () => string;
  result: () => Outcome | undefined;
}

/**
 * A SharedArrayBuffer the held tasks count themselves on and wait on: the test opens each task's gate
 * when it chooses, so which task ends first, and how, is forced by the test, not left to timing.
 */
class Board {
  readonly view = new Int32Array(new SharedArrayBuffer(4 * 128));
  #nextSlot = 3;
  readonly #slots = new Map<string, number>();

  hold(label: string): { op: 'hold'; shared: SharedArrayBuffer; slot: number; label: string } {
    const slot = this.#nextSlot++;
    this.#slots.set(label, slot);
    return { op: 'hold', shared: this.view.buffer as SharedArrayBuffer, slot, label };
  }
  started(label: string): boolean {
    return Atomics.load(this.view, STARTED + this.#slots.get(label)!) === 1;
  }
  get running(): number {
    return Atomics.load(this.view, RUNNING);
  }
  get peak(): number {
    return Atomics.load(this.view, PEAK);
  }
  end(label: string, how: keyof typeof END = 'finish'): void {
    const slot = this.#slots.get(label)!;
    Atomics.store(this.view, slot, END[how]);
    Atomics.notify(this.view, slot);
  }
  /** Lets every held task finish (clean-up). */
  endAll(): void {
    for (const label of this.#slots.keys()) {
      const slot = this.#slots.get(label)!;
      if (Atomics.load(this.view, slot) === 0) this.end(label);
    }
  }
}

const pools: Pool[] = [];
const boards: Board[] = [];
/** Every task the current test gave to a pool, to explain where a missing result went. */
const submitted: Submitted[] = [];

function openPool(options: Omit<PoolOptions, 'workerFile'>): Pool {
  const pool = createPool({ ...options, workerFile: WORKER_FILE });
  pools.push(pool);
  return pool;
}
function openBoard(): Board {
  const board = new Board();
  boards.push(board);
  return board;
}

afterEach(async () => {
  submitted.length = 0;
  for (const board of boards.splice(0)) board.endAll();
  for (const pool of pools.splice(0)) {
    await within(
      Promise.resolve().then(() => pool.close()),
      5000,
      'close() never settled',
    ).catch(() => {});
  }
  await stopLeakedWorkers();
});

/** Calls run() and records its outcome at once (a rejection is handled the moment it happens). */
function submit(pool: Pool, task: unknown, label: string): Submitted {
  let promise: Promise<unknown>;
  try {
    promise = pool.run(task);
  } catch (error) {
    promise = Promise.reject(error);
  }
  let result: Outcome | undefined;
  const outcome = Promise.resolve(promise).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void outcome.then((settled) => (result = settled));
  const entry: Submitted = {
    label,
    outcome,
    settled: () => result !== undefined,
    sofar: () => (result ? describeOutcome(result) : 'has not settled'),
    result: () => result,
  };
  submitted.push(entry);
  return entry;
}

/** The message of a rejection reason (errors may come from another realm: no instanceof checks). */
function messageOf(reason: unknown): string {
  if (typeof reason === 'object' && reason !== null && typeof (reason as Error).message === 'string') {
    return (reason as Error).message;
  }
  return String(reason);
}

function describeOutcome(outcome: Outcome): string {
  return 'value' in outcome
    ? `resolved with ${JSON.stringify(outcome.value)}`
    : `rejected with "${messageOf(outcome.error)}"`;
}

/** Waits for a task's call to settle; fails with `never` if it does not. */
async function settle(task: Submitted, never: string): Promise<Outcome> {
  return within(task.outcome, WAIT_MS, never);
}

/** Asserts that `task` resolved with its own result. */
async function expectOwnResult(task: Submitted, context: string, onError = ''): Promise<Value> {
  const outcome = await within(task.outcome, WAIT_MS, 'never').catch(() => {
    // Where did its result go? A reply given to the wrong call explains a call that never settles.
    const thief = submitted.find((other) => {
      const result = other.result();
      return other !== task && result && 'value' in result && (result.value as Value | null)?.label === task.label;
    });
    assert.fail(
      `run() of task ${task.label} never settled ${context}.` +
        (thief
          ? ` Its result went to run() of task ${thief.label}, which ${thief.sofar()}: a reply was matched to ` +
            `the oldest call still waiting instead of the call with its id.`
          : '') +
        ` Settle each call when the reply with its id arrives.`,
    );
  });
  if ('error' in outcome) {
    assert.fail(
      `run() of task ${task.label} rejected with "${messageOf(outcome.error)}" ${context}; it should have ` +
        `resolved with its result.${onError}`,
    );
  }
  const value = outcome.value as Value;
  const label = typeof value === 'object' && value !== null ? value.label : undefined;
  assert.equal(
    label,
    task.label,
    `run() of task ${task.label} resolved with ${JSON.stringify(value)}, the result of ` +
      `${label === undefined ? 'no task' : `task ${label}`} ${context}. Every reply carries the id of the task ` +
      `it answers: settle the call with that id, not the oldest call still waiting.`,
  );
  return value;
}

/** Asserts that `task` rejected with an Error whose message matches `pattern`. */
async function expectRejection(task: Submitted, pattern: RegExp, never: string, what: string): Promise<void> {
  const outcome = await settle(task, never);
  assert.ok('error' in outcome, `run() of task ${task.label} ${describeOutcome(outcome)}; ${what}`);
  assert.match(
    messageOf(outcome.error),
    pattern,
    `run() of task ${task.label} rejected with "${messageOf(outcome.error)}"; ${what}`,
  );
}

async function waitForStart(board: Board, label: string, never: string): Promise<void> {
  await waitUntil(() => board.started(label), WAIT_MS, never);
}

function checkThreads(size: number, when: string): void {
  const alive = liveWorkers();
  assert.ok(
    alive <= size,
    `a pool of size ${size} had ${alive} worker threads alive ${when}. A pool starts its \`size\` workers ` +
      `once and gives them task after task; starting a worker per task makes the number of threads (and ` +
      `their memory) grow with the load, which is what a pool is for preventing.`,
  );
}

describe('createPool()', () => {
  test(
    'runs size tasks at once on size threads, never more, and gives a waiting task to the first free worker',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 10 });
      const board = openBoard();
      const [a, b, c] = ['a', 'b', 'c'].map((label) => submit(pool, board.hold(label), label)) as [
        Submitted,
        Submitted,
        Submitted,
      ];
      checkThreads(2, 'right after three run() calls');
      await waitUntil(
        () => board.started('a') && board.started('b'),
        WAIT_MS,
        `with size 2 and three tasks given, tasks a and b should both be running (they block until the test ` +
          `lets them go), but only ${board.running} task(s) ever started. Start \`size\` workers and give ` +
          `each one a task as long as tasks are waiting; tasks start in the order of the run() calls.`,
      );
      assert.ok(
        !board.started('c'),
        `task c started while a and b were still running in a pool of size 2: ${board.peak} tasks ran at ` +
          `once. Post a task to a worker only when that worker has no task; keep the others in a queue.`,
      );
      checkThreads(2, 'while two tasks ran');

      board.end('b');
      await expectOwnResult(b, 'after the test let it finish');
      await waitForStart(
        board,
        'c',
        `task c, waiting in the queue, never started after task b finished, although b's worker was free ` +
          `(a is still running). When a worker replies, give it the next waiting task — it must be the ` +
          `worker that became free, not the next one in turn, which may still be busy.`,
      );
      board.end('a');
      board.end('c');
      const values = [await expectOwnResult(a, 'after it finished'), await expectOwnResult(c, 'after it finished')];
      checkThreads(2, 'after the tasks finished');
      assert.ok(board.peak <= 2, `${board.peak} tasks ran at the same time in a pool of size 2.`);
      const threads = new Set([...values.map((value) => value.threadId)]);
      assert.ok(
        threads.size <= 2,
        `tasks a, b and c ran on ${threads.size} different threads in a pool of size 2. Reuse the pool's ` +
          `workers: one worker runs task after task.`,
      );
    },
    TEST_MS,
  );

  test(
    'settles each task with its own result when tasks finish out of order',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 0 });
      const board = openBoard();
      const a = submit(pool, board.hold('a'), 'a');
      const b = submit(pool, board.hold('b'), 'b');
      await waitUntil(
        () => board.started('a') && board.started('b'),
        WAIT_MS,
        'tasks a and b never both started in a pool of size 2.',
      );
      board.end('b'); // b finishes first, a is still running
      const first = await within(
        Promise.race([a.outcome.then(() => a), b.outcome.then(() => b)]),
        WAIT_MS,
        'task b finished (a is still running), but neither run() call settled. Settle each call when the ' +
          'reply with its id arrives.',
      );
      assert.equal(
        first.label,
        'b',
        `only task b had finished (a is still running), yet run() of task a settled first: it ` +
          `${a.sofar()}. A reply answers the task with its id, not the oldest waiting one.`,
      );
      await expectOwnResult(b, 'when it finished before task a');
      board.end('a');
      await expectOwnResult(a, 'after task b, started later, had finished first');
    },
    TEST_MS,
  );

  test(
    'rejects only the task that threw, with its message, and keeps the pool working',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 2 });
      const board = openBoard();
      const a = submit(pool, board.hold('a'), 'a');
      const failing = submit(pool, { op: 'throw', message: 'task t failed on purpose' }, 't');
      const c = submit(pool, { op: 'echo', label: 'c' }, 'c');
      await expectRejection(
        failing,
        /task t failed on purpose/,
        'run() of task t, which throws in the worker, never settled. A reply with ok: false must reject its call.',
        'it should reject with an Error whose message is the one the task threw ("task t failed on purpose").',
      );
      await expectOwnResult(
        c,
        'after task t had thrown in the same pool',
        ' A task that throws must fail only its own call: its worker is fine (the error was caught there and ' +
          'sent back as a reply), so keep it and the pool working.',
      );
      assert.ok(
        !a.settled(),
        `run() of task a ${a.sofar()} while task a was still running: a task that ` +
          `throws must fail only its own call, not the others.`,
      );
      board.end('a');
      await expectOwnResult(a, 'after another task had thrown');
      await expectOwnResult(submit(pool, { op: 'echo', label: 'd' }, 'd'), 'after a task had thrown');
    },
    TEST_MS,
  );

  test(
    'fails the task of a worker that died, replaces the worker, and loses no other task',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 4 });
      const board = openBoard();
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((label) => submit(pool, board.hold(label), label)) as [
        Submitted,
        Submitted,
        Submitted,
        Submitted,
      ];
      await waitUntil(
        () => board.started('a') && board.started('b'),
        WAIT_MS,
        'tasks a and b never both started in a pool of size 2.',
      );
      board.end('b', 'exit'); // b's worker calls process.exit(42)
      await expectRejection(
        b,
        /42/,
        'run() of task b never settled after its worker called process.exit(42) in the middle of it. When a ' +
          "worker's 'exit' event comes while it runs a task, reject that task's call.",
        'its worker exited with code 42 in the middle of it; reject with an Error that names the exit code.',
      );
      await waitForStart(
        board,
        'c',
        `task c never started after task b's worker died (task a still holds the other worker). Replace a ` +
          `dead worker with a new one (on its 'exit') and give it the next waiting task, or the pool shrinks ` +
          `and its queue stalls.`,
      );
      board.end('a', 'crash'); // a's worker dies of an exception thrown from a timer
      await expectRejection(
        a,
        /a crashed in a timer/,
        "run() of task a never settled after its worker died of an uncaught exception. Listen for the worker's " +
          "'error' (the exception) and 'exit' events, and reject the task it was running.",
        'its worker died of an uncaught Error("a crashed in a timer"); reject with an Error that carries that message.',
      );
      await waitForStart(
        board,
        'd',
        `task d never started after task a's worker died (task c holds the other worker). Every dead worker ` +
          `must be replaced, so that the pool keeps its size.`,
      );
      assert.equal(
        board.running,
        2,
        `${board.running} tasks are running; after two deaths and two replacements, tasks c and d should run at once.`,
      );
      board.end('c');
      board.end('d');
      await expectOwnResult(c, 'after two workers of the pool had died');
      await expectOwnResult(d, 'after two workers of the pool had died');
      checkThreads(2, 'after two workers had died and been replaced');
    },
    TEST_MS,
  );

  test(
    'rejects a task at once when size + maxQueued tasks are already waiting or running',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 1 });
      const board = openBoard();
      const [a, b, c] = ['a', 'b', 'c'].map((label) => submit(pool, board.hold(label), label)) as [
        Submitted,
        Submitted,
        Submitted,
      ];
      const extra = submit(pool, { op: 'echo', label: 'x' }, 'x');
      const outcome = await within(
        extra.outcome,
        5000,
        'with size 2 and maxQueued 1, three tasks were outstanding and none could finish, yet a fourth run() ' +
          'did not reject: it was queued. Count running + waiting tasks, and reject at once when they reach ' +
          'size + maxQueued, so the queue (and its memory) stays bounded.',
      );
      assert.ok(
        'error' in outcome,
        `the fourth run() ${describeOutcome(outcome)} although size + maxQueued (2 + 1) tasks were outstanding.`,
      );
      for (const task of [a, b, c]) {
        assert.ok(
          !task.settled(),
          `run() of task ${task.label} ${task.sofar()} when the queue was full: the ` +
            `first size + maxQueued tasks must be accepted, only the next one rejected.`,
        );
      }
      board.end('a');
      await expectOwnResult(a, 'with the queue full');
      await waitForStart(board, 'c', 'task c, queued, never started after task a finished.');
      const later = submit(pool, { op: 'echo', label: 'e' }, 'e');
      board.end('b');
      board.end('c');
      await expectOwnResult(b, 'after the queue had been full');
      await expectOwnResult(c, 'after the queue had been full');
      await expectOwnResult(later, 'given once the queue had room again');
    },
    TEST_MS,
  );

  test(
    'close() rejects waiting tasks, lets running ones finish, then leaves no thread; run() afterwards rejects',
    async () => {
      const pool = openPool({ size: 2, maxQueued: 5 });
      const board = openBoard();
      const a = submit(pool, board.hold('a'), 'a');
      const b = submit(pool, board.hold('b'), 'b');
      const waiting = [submit(pool, { op: 'echo', label: 'c' }, 'c'), submit(pool, { op: 'echo', label: 'd' }, 'd')];
      await waitUntil(
        () => board.started('a') && board.started('b'),
        WAIT_MS,
        'tasks a and b never both started in a pool of size 2.',
      );
      let closeSettled = false;
      const closing = Promise.resolve()
        .then(() => pool.close())
        .then(
          () => ({ closed: true as const }),
          (error: unknown) => ({ error }),
        );
      void closing.then(() => (closeSettled = true));
      for (const task of waiting) {
        const outcome = await settle(
          task,
          `run() of task ${task.label}, waiting in the queue, never settled after close() while tasks a and b ` +
            `were still running. close() must reject the tasks that have not started.`,
        );
        assert.ok(
          'error' in outcome,
          `run() of task ${task.label}, waiting in the queue when close() was called, ${describeOutcome(outcome)}; ` +
            `close() must reject the waiting tasks, not start them.`,
        );
      }
      const after = submit(pool, { op: 'echo', label: 'e' }, 'e');
      const afterOutcome = await settle(after, 'run() after close() never settled; it must reject at once.');
      assert.ok(
        'error' in afterOutcome,
        `run() after close() ${describeOutcome(afterOutcome)}; a closed pool must reject new tasks.`,
      );
      assert.ok(
        !closeSettled,
        'close() settled while tasks a and b were still running: it must let running tasks finish first.',
      );
      board.end('a');
      board.end('b');
      await expectOwnResult(a, 'while close() was waiting for it');
      await expectOwnResult(b, 'while close() was waiting for it');
      const closed = await within(closing, WAIT_MS, 'close() never settled after the running tasks had finished.');
      assert.ok('closed' in closed, `close() rejected with "${'error' in closed ? messageOf(closed.error) : ''}".`);
      const left = liveWorkers();
      assert.equal(
        left,
        0,
        `close() resolved, but ${left} worker thread(s) of the pool were still alive. Terminate every worker ` +
          `(worker.terminate() returns a promise that resolves once the thread has exited) and resolve ` +
          `close() only after all of them have exited.`,
      );
    },
    TEST_MS,
  );
});
