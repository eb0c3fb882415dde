/**
 * Exercise 05-threads/worker-pool — chapter: chapters/05-threads.md#exercise-worker-pool
 *
 * A fixed-size pool of worker threads: tasks wait in a bounded queue and each runs on the next worker that
 * is free. A task that throws fails alone; a worker that dies fails only the task it was running, and is
 * replaced, so the pool keeps its size.
 *
 * You write the pool's side only. The worker file is given (the tests bring their own): it runs one task
 * per message and answers as {@link ReplyMessage} says. Start each worker with `new Worker(workerFile)` from
 * node:worker_threads.
 */
import { Worker } from 'node:worker_threads';

/** How to build a pool. */
export interface PoolOptions {
  /** How many worker threads the pool keeps, and so how many tasks run at once: a positive integer. */
  size: number;
  /**
   * Absolute path of the worker file every worker thread runs (`new Worker(workerFile)`). It speaks the
   * protocol of {@link TaskMessage} and {@link ReplyMessage}.
   */
  workerFile: string;
  /** How many tasks may wait for a free worker, besides the `size` that run: a non-negative integer. */
  maxQueued: number;
}

/**
 * What the pool posts to a worker (`worker.postMessage(message)`) to start a task: `id` is chosen by the
 * pool, different for every task of the pool; `task` is the value given to `run()`, passed as it is
 * (structured clone). The worker file listens with `parentPort.on('message', …)`, runs the task, and
 * answers with one {@link ReplyMessage}; it catches what the task throws and sends it back as the reply.
 */
export interface TaskMessage<Task = unknown> {
  id: number;
  task: Task;
}

/**
 * What a worker posts back when a task has ended, with the `id` of the task it answers: `ok: true` and
 * the task's `value`, or `ok: false` and `error`, the message of the Error the task threw.
 */
export type ReplyMessage<Result = unknown> =
  { id: number; ok: true; value: Result } | { id: number; ok: false; error: string };

/** A running pool. */
export interface Pool<Task = unknown, Result = unknown> {
  /**
   * Runs `task` on a worker of the pool and resolves with the `value` of its reply; if the reply is
   * `ok: false`, rejects with an Error whose message is the reply's `error`. Each call settles with the
   * reply to its own task, whatever order tasks finish in.
   *
   * - Tasks start in the order of the run() calls. A worker runs one task at a time: a task is posted to a
   *   worker only when that worker has no task, so never more than `size` tasks run at once. When every
   *   worker is busy, the task waits in the queue and goes to the first worker that becomes free.
   * - A task that throws (a reply with `ok: false`) fails only its own call; its worker and the pool go on.
   * - If a worker dies while it runs a task (it calls `process.exit()`, or an exception nothing caught ends
   *   it, e.g. one thrown from a timer: the Worker emits 'error' and then 'exit'), that task's call rejects
   *   with an Error whose message names the cause: the uncaught error's message, or else the exit code.
   *   The dead worker is replaced by a new one (started on its 'exit'), which takes the next waiting task:
   *   the pool keeps `size` workers, and no other task is lost.
   * - The queue is bounded: if `size + maxQueued` tasks are already outstanding (running or waiting),
   *   run() rejects at once with an Error saying the queue is full, and that task never runs.
   * - After close() has been called, run() rejects with an Error saying the pool is closed.
   *
   * run() never throws: every failure is a rejection of the promise it returns.
   */
  run(task: Task): Promise<Result>;
  /**
   * Closes the pool: every task still waiting in the queue is rejected at once with an Error (the pool is
   * closed), tasks already running finish and settle as usual, and then every worker thread is terminated.
   * Resolves once all of them have exited, so no thread of the pool is left. Dead workers are no longer
   * replaced once close() has been called. Calling close() again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Creates a pool of `size` worker threads, each started at once with `new Worker(workerFile)`. The pool
 * never has more than `size` worker threads alive: it reuses them for task after task, and starts a
 * replacement only for a worker that has exited. Throws a RangeError if `size` is not a positive integer
 * or `maxQueued` not a non-negative integer.
 */
export function createPool<Task = unknown, Result = unknown>(options: PoolOptions): Pool<Task, Result> {
  const { size, workerFile, maxQueued } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!Number.isInteger(maxQueued) || maxQueued < 0) {
    throw new RangeError(`maxQueued must be a non-negative integer, got ${maxQueued}`);
  }

  interface Job {
    id: number;
    task: Task;
    resolve: (value: Result) => void;
    reject: (error: Error) => void;
  }
  /** One worker thread, and the job it runs (if any). */
  interface Slot {
    worker: Worker;
    job?: Job;
    crash?: Error;
  }

  const slots = new Set<Slot>();
  const queue: Job[] = [];
  let nextId = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let onDrained: (() => void) | undefined;

  const running = (): number => [...slots].filter((slot) => slot.job).length;
  const checkDrained = (): void => {
    if (closed && running() === 0) onDrained?.();
  };

  /** Gives a free worker the next waiting job. */
  const dispatch = (slot: Slot): void => {
    if (slot.job || closed) return;
    const job = queue.shift();
    if (!job) return;
    slot.job = job;
    slot.worker.postMessage({ id: job.id, task: job.task } satisfies TaskMessage<Task>);
  };

  const startWorker = (): void => {
    const slot: Slot = { worker: new Worker(workerFile) };
    slots.add(slot);
    slot.worker.on('message', (reply: ReplyMessage<Result>) => {
      // Match by id: the reply settles the job it answers, never simply the oldest one.
      const job = slot.job;
      if (!job || reply.id !== job.id) return;
      slot.job = undefined;
      if (reply.ok) job.resolve(reply.value);
      else job.reject(new Error(reply.error));
      dispatch(slot);
      checkDrained();
    });
    // Without an 'error' listener, an exception uncaught in the worker would end the whole process.
    slot.worker.on('error', (error) => {
      slot.crash = error;
    });
    slot.worker.on('exit', (code) => {
      slots.delete(slot);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        job.reject(
          new Error(
            slot.crash
              ? `the worker running this task died: ${slot.crash.message}`
              : `the worker running this task exited with code ${code}`,
          ),
        );
      }
      // A replacement keeps the pool at its size and picks up the waiting work.
      if (!closed) startWorker();
      checkDrained();
    });
    dispatch(slot);
  };

  for (let i = 0; i < size; i += 1) startWorker();

  return {
    run(task) {
      if (closed) return Promise.reject(new Error('the pool is closed: run() after close()'));
      if (running() + queue.length >= size + maxQueued) {
        return Promise.reject(
          new Error(`the pool's queue is full: ${size} tasks running and ${queue.length} waiting (maxQueued)`),
        );
      }
      return new Promise<Result>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve, reject });
        const free = [...slots].find((slot) => !slot.job);
        if (free) dispatch(free);
      });
    },
    close() {
      if (closing) return closing;
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('the pool was closed before this task started'));
      closing = (async () => {
        await new Promise<void>((resolve) => {
          onDrained = resolve;
          checkDrained();
        });
        // terminate() resolves once the thread has exited.
        await Promise.all([...slots].map((slot) => slot.worker.terminate()));
      })();
      return closing;
    },
  };
}
