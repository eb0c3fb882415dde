/**
 * A team of long-lived worker threads that a grading suite drives in rounds, for exercises on shared
 * memory: every member gets the round's task, they all start together behind a spin gate (so they really
 * run at the same time on different cores), and the suite gets each member's result back.
 *
 * The members are plain CommonJS fixture files that call `joinTeam` from `team-member.js`. A round that
 * does not finish in time is reported with the members that never answered — a deadlock or a lost
 * wake-up shows up as a clear failure, not as a hang — and every member is terminated by `stop()` or by
 * `stopTeams()` in afterEach, even one blocked in `Atomics.wait` or spinning forever.
 */
import { Worker } from 'node:worker_threads';
import { scaled } from './deadline';

export interface RoundOptions {
  /** How long the round may take before the members that did not answer count as stuck (default 5000). */
  ms?: number;
  /** The failure message when members are stuck, given their indices (default: they "never finished"). */
  describeStuck?: (stuck: number[]) => string;
}

export interface Team {
  readonly size: number;
  /**
   * Runs one round: member i gets `tasks[i]` (or `tasks` itself when it is not an array of one task per
   * member), the members pass the spin gate together, and the results come back in member order. Rejects
   * if a member threw (with its error) or did not answer within `options.ms`.
   */
  round<R>(tasks: unknown, options?: RoundOptions): Promise<R[]>;
  /** Terminates every member, also stuck ones, and waits until they are gone. */
  stop(): Promise<void>;
}

const teams = new Set<Team>();

/** Stops every team a suite started and did not stop: for afterEach, so no thread outlives its test. */
export async function stopTeams(): Promise<void> {
  await Promise.all([...teams].map((team) => team.stop()));
}

type Reply = { index: number; round: number; value?: unknown; error?: string };

/** How long members may take to load their fixture and the graded module (tsx compiles it on a busy machine). */
const READY_MS = 30000;

/**
 * Starts `size` workers running `fixture` (an absolute path to a CommonJS file that calls `joinTeam`),
 * each given `data` (structured-cloned; SharedArrayBuffers in it are shared), and waits until every member
 * has loaded and joined, so that start-up never counts against a round's time. Rejects if a member crashed
 * while loading (a graded module that throws at load time, say).
 */
export async function startTeam(fixture: string, size: number, data?: unknown): Promise<Team> {
  const control = new SharedArrayBuffer(8);
  const replies = new Map<number, (reply: Reply) => void>();
  const joined = new Set<number>();
  let everyoneJoined: (() => void) | undefined;
  let failure: Error | undefined;
  let onFailure: ((error: Error) => void) | undefined;
  const members = Array.from({ length: size }, (_, index) => {
    const worker = new Worker(fixture, { workerData: { team: { control, size, index }, data } });
    worker.on('message', (reply: Reply | { ready: true }) => {
      if ('ready' in reply) joined.add(index);
      else replies.get(reply.index)?.(reply);
      if (joined.size === size) everyoneJoined?.();
    });
    const fail = (error: Error) => {
      failure ??= error;
      onFailure?.(failure);
    };
    worker.on('error', (error) => fail(new Error(`thread ${index} crashed: ${error.stack ?? error.message}`)));
    worker.on('exit', (code) => fail(new Error(`thread ${index} exited (code ${code}) in the middle of the test`)));
    return worker;
  });
  let rounds = 0;
  let stopped: Promise<void> | undefined;

  const team: Team = {
    size,
    async round<R>(tasks: unknown, options: RoundOptions = {}): Promise<R[]> {
      if (failure) throw failure;
      const round = ++rounds;
      const results: R[] = new Array(size);
      const pending = new Set(members.keys());
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          onFailure = reject;
          for (const index of members.keys()) {
            replies.set(index, (reply) => {
              if (reply.round !== round) return;
              if (reply.error !== undefined) return reject(new Error(reply.error));
              results[index] = reply.value as R;
              pending.delete(index);
              if (pending.size === 0) resolve();
            });
          }
          const ms = scaled(options.ms ?? 5000);
          timer = setTimeout(() => {
            const stuck = [...pending];
            const describe =
              options.describeStuck ??
              ((indices: number[]) =>
                `deadlocked: thread${indices.length > 1 ? 's' : ''} ${indices.join(', ')} of ${size} never finished round ${round} (waited ${ms} ms).`);
            reject(new Error(describe(stuck)));
          }, ms);
          members.forEach((worker, index) =>
            worker.postMessage({ round, task: Array.isArray(tasks) && tasks.length === size ? tasks[index] : tasks }),
          );
        });
      } catch (error) {
        failure ??= error as Error;
        throw error;
      } finally {
        clearTimeout(timer);
        onFailure = undefined;
        replies.clear();
      }
      return results;
    },
    stop() {
      failure ??= new Error('the team was stopped');
      stopped ??= Promise.all(
        members.map((worker) => {
          worker.removeAllListeners('exit');
          return worker.terminate().catch(() => undefined);
        }),
      ).then(() => {
        teams.delete(team);
      });
      return stopped;
    },
  };
  teams.add(team);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      everyoneJoined = resolve;
      onFailure = reject;
      timer = setTimeout(() => {
        const missing = members.map((_, index) => index).filter((index) => !joined.has(index));
        reject(
          new Error(
            `thread${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${size} never finished loading (waited ${scaled(READY_MS)} ms): does the graded module do blocking work when it is loaded?`,
          ),
        );
      }, scaled(READY_MS));
    });
  } catch (error) {
    await team.stop();
    throw error;
  } finally {
    clearTimeout(timer);
    everyoneJoined = undefined;
    onFailure = undefined;
  }
  return team;
}
