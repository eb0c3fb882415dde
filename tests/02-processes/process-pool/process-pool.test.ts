import assert from 'node:assert/strict';
import { runPool, type JobResult } from '@target/02-processes/process-pool';
import { inWords, scaled, track, within } from '../../support/deadline';
import { Rendezvous } from './rendezvous';

/** How long a job may take to start (or to go away) on a loaded machine before we call it "never". */
const START_MS = 8000;
/** How long a whole run of a few jobs may take. */
const RUN_MS = 15000;
/** Jest's time limit for a test that starts jobs (stretched on a slower machine, as the deadlines above are). */
const TEST_MS = scaled(30000);

type Pending = { promise: Promise<JobResult[]>; settled: () => boolean };

let meet: Rendezvous;
beforeEach(async () => {
  meet = await Rendezvous.open();
});
afterEach(async () => {
  // Kills every job process this test started, also those a wrong pool left behind.
  await meet.close();
});

const jobsNamed = (names: string[]): { command: string; args: string[] }[] => names.map((name) => meet.job(name));
const namesOf = (list: { name: string }[]): string => list.map((arrival) => arrival.name).join(', ') || 'none';

/** What a settled runPool promise did, in words. */
async function outcomeOf(pending: Pending): Promise<string> {
  return pending.promise.then(
    (results) => `resolved with ${JSON.stringify(results)}`,
    (error: unknown) => `rejected with "${error instanceof Error ? error.message : String(error)}"`,
  );
}

/** Waits until `count` jobs have connected. Fails early, and says so, if runPool settles first. */
async function arrivals(count: number, pending: Pending, explain: () => string): Promise<void> {
  const give = Date.now() + scaled(START_MS);
  while (meet.arrivals.length < count) {
    if (pending.settled()) {
      const running = meet.arrivals.filter((arrival) => !arrival.ended);
      assert.fail(
        `runPool ${await outcomeOf(pending)} before every job had ended: ${meet.arrivals.length} of the ` +
          `jobs had started so far (${namesOf(meet.arrivals)}), ${running.length} of them still running ` +
          `(${namesOf(running)}), and the test had not yet let them all end. runPool must settle only after ` +
          `every job has ended, and never reject because of a job.`,
      );
    }
    if (Date.now() > give) assert.fail(explain());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The results, once every job has ended. Fails with a clear message if runPool rejects or never resolves. */
async function finalResults(pending: Pending, context: string): Promise<JobResult[]> {
  const outcome = await within(
    pending.promise.then(
      (results) => ({ results }),
      (error: unknown) => ({ error }),
    ),
    RUN_MS,
    `runPool never resolved ${context}. Resolve once the last job has ended.`,
  );
  if ('error' in outcome) {
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    assert.fail(
      `runPool rejected with "${message}" ${context}. A job that fails (non-zero exit, killed by a signal, ` +
        `could not start) must be reported in its own result; runPool itself must not reject because of a job.`,
    );
  }
  assert.ok(Array.isArray(outcome.results), `runPool resolved with ${String(outcome.results)}, not an array.`);
  return outcome.results;
}

/** Asserts that no more than `limit` job processes were ever seen alive at once. */
function checkLimit(limit: number, when: string): void {
  meet.aliveJobs();
  assert.ok(
    meet.peak <= limit,
    `with limit ${limit}, ${meet.peak} job processes were alive at the same time (counted from the process ` +
      `table each time a job connected, and ${when}). Start a job only while fewer than \`limit\` are running, and start the next ` +
      `one only after a running one has ended.`,
  );
}

function stdoutsOf(results: JobResult[]): unknown[] {
  return Array.from(results, (result) => result?.stdout);
}

describe('runPool()', () => {
  test(
    'never has more than `limit` jobs alive, and keeps `limit` busy while jobs are waiting',
    async () => {
      const names = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'];
      const pending = track(runPool(jobsNamed(names), 3));
      await arrivals(
        3,
        pending,
        () =>
          `with limit 3 and 7 jobs, 3 jobs should run at once, but after ${inWords(scaled(START_MS))} only ` +
          `${meet.arrivals.length} had started (${namesOf(meet.arrivals)}). Start \`limit\` jobs right away.`,
      );
      checkLimit(3, 'once the first 3 jobs had started');
      // End the jobs one at a time, oldest first. After the k-th has ended, 3 + k jobs should have started.
      for (let ended = 1; ended <= names.length; ended += 1) {
        const [victim, ...others] = meet.held();
        assert.ok(victim, `no job was running although ${names.length - ended + 1} of the 7 jobs had not ended.`);
        await meet.release(victim.name, 'exit 0', START_MS);
        if (3 + ended <= names.length) {
          await arrivals(
            3 + ended,
            pending,
            () =>
              `job ${victim.name} ended while ${names.length - meet.arrivals.length} jobs were still waiting to ` +
              `start, but the pool started none of them within ${inWords(scaled(START_MS))} (still running: ` +
              `${namesOf(others)}). Start the next waiting job as soon as any running job ends, so that ` +
              `\`limit\` jobs keep running while any are left.`,
          );
        }
        checkLimit(3, `after ${victim.name} ended`);
      }
      const results = await finalResults(pending, 'after all 7 jobs had ended');
      assert.deepEqual(
        stdoutsOf(results),
        names,
        `every job writes its name to stdout, so the results' stdout should be ${JSON.stringify(names)}, ` +
          `got ${JSON.stringify(stdoutsOf(results))}.`,
      );
      assert.deepEqual(
        Array.from(results, (result) => result?.code),
        names.map(() => 0),
        `every job exited with code 0, got the codes ${JSON.stringify(Array.from(results, (r) => r?.code))}.`,
      );
    },
    TEST_MS,
  );

  test(
    'starts the next job as soon as one ends, not when its whole batch has ended',
    async () => {
      const pending = track(runPool(jobsNamed(['a', 'b', 'c']), 2));
      await arrivals(
        2,
        pending,
        () =>
          `with limit 2 and 3 jobs, 2 jobs should run at once, but after ${inWords(scaled(START_MS))} only ` +
          `${meet.arrivals.length} had started (${namesOf(meet.arrivals)}).`,
      );
      checkLimit(2, 'once the first 2 jobs had started');
      const [first, second] = meet.held();
      await meet.release(first!.name, 'exit 0', START_MS);
      await arrivals(
        3,
        pending,
        () =>
          `job ${first!.name} ended, but the third job had not started ${inWords(scaled(START_MS))} later, while job ` +
          `${second!.name} was still running. The pool is waiting for the whole batch of \`limit\` jobs to end ` +
          `before it starts more. Start the next job as soon as any one job ends.`,
      );
      checkLimit(2, 'after the third job started');
      for (const arrival of meet.held()) await meet.release(arrival.name, 'exit 0', START_MS);
      const results = await finalResults(pending, 'after all 3 jobs had ended');
      assert.deepEqual(stdoutsOf(results), ['a', 'b', 'c'], `wrong results: ${JSON.stringify(results)}`);
    },
    TEST_MS,
  );

  test(
    'returns results in the order of `jobs`, not the order the jobs finished',
    async () => {
      const names = ['first', 'second', 'third'];
      const pending = track(runPool(jobsNamed(names), 3));
      await arrivals(
        3,
        pending,
        () =>
          `with limit 3 and 3 jobs, all 3 should run at once, but after ${inWords(scaled(START_MS))} only ` +
          `${meet.arrivals.length} had started (${namesOf(meet.arrivals)}).`,
      );
      // End them last to first, each only after the one before it is gone.
      for (const name of [...names].reverse()) await meet.release(name, 'exit 0', START_MS);
      const results = await finalResults(pending, 'after all 3 jobs had ended');
      assert.deepEqual(
        stdoutsOf(results),
        names,
        `the jobs ${JSON.stringify(names)} finished last to first, and runPool returned the results of ` +
          `${JSON.stringify(stdoutsOf(results))} (each job writes its name to stdout). Results must follow ` +
          `the order of \`jobs\`, whatever order the jobs finish in: store each result at its job's index.`,
      );
    },
    TEST_MS,
  );

  test(
    'reports every failure in its own result and loses no other job',
    async () => {
      const missing = 'no-such-command-in-this-workbook';
      meet.autopilot({
        'ok-1': 'exit 0',
        'exits-3': 'exit 3',
        'killed-by-sigkill': 'kill SIGKILL',
        'killed-by-sigterm': 'kill SIGTERM',
        'ok-2': 'exit 0',
      });
      const jobs = [
        meet.job('ok-1'),
        meet.job('exits-3'),
        meet.job('killed-by-sigkill'),
        { command: missing, args: ['--anything'] },
        meet.job('killed-by-sigterm'),
        meet.job('ok-2'),
      ];
      const results = await finalResults(
        track(runPool(jobs, 3)),
        'for a list of jobs where one exits with code 3, two are killed by signals and one does not exist',
      );
      assert.equal(
        results.length,
        jobs.length,
        `6 jobs went in, ${results.length} results came out: ${JSON.stringify(results)}. Every job needs its own result.`,
      );
      const expected: [string, Omit<JobResult, 'error'>][] = [
        ['job ok-1 wrote "ok-1" and exited with code 0', { code: 0, signal: null, stdout: 'ok-1' }],
        ['job exits-3 wrote "exits-3" and exited with code 3', { code: 3, signal: null, stdout: 'exits-3' }],
        [
          'job killed-by-sigkill wrote "killed-by-sigkill" and was killed by SIGKILL',
          { code: null, signal: 'SIGKILL', stdout: 'killed-by-sigkill' },
        ],
        [`the command ${missing} does not exist, so its job never started`, { code: null, signal: null, stdout: '' }],
        [
          'job killed-by-sigterm wrote "killed-by-sigterm" and was killed by SIGTERM',
          { code: null, signal: 'SIGTERM', stdout: 'killed-by-sigterm' },
        ],
        ['job ok-2 wrote "ok-2" and exited with code 0', { code: 0, signal: null, stdout: 'ok-2' }],
      ];
      expected.forEach(([what, want], index) => {
        const got = results[index];
        const shown = JSON.stringify(got);
        assert.ok(got && typeof got === 'object', `${what}, but its result (index ${index}) is ${shown}.`);
        assert.deepEqual(
          { code: got.code, signal: got.signal, stdout: got.stdout },
          want,
          `${what}: its result (index ${index}) should have ${JSON.stringify(want)}, got ${shown}.` +
            (want.signal ? ' A job ended by a signal has code null and the signal set.' : '') +
            (index === 3 ? " Listen for the child's 'error' event: it is how a failed start shows up." : ''),
        );
        if (index === 3) {
          assert.ok(
            typeof got.error === 'string' && got.error.includes(missing),
            `${what}: its result should have an \`error\` message naming the command, got ${shown}.`,
          );
        } else {
          assert.equal(
            got.error,
            undefined,
            `${what}, so it did start: \`error\` is only for a job that could not be started, got ${shown}.`,
          );
        }
      });
    },
    TEST_MS,
  );

  test(
    'resolves only once every job has ended, leaving nothing running',
    async () => {
      const names = ['x', 'y', 'z'];
      meet.autopilot(Object.fromEntries(names.map((name) => [name, 'exit 0'])));
      let aliveAtResolve: number[] = [];
      const resolved = runPool(jobsNamed(names), 2).then((results) => {
        // Runs the moment runPool resolves, before any other event: what is alive now was left behind.
        aliveAtResolve = meet.aliveJobs();
        return results;
      });
      const results = await finalResults(track(resolved), 'for 3 jobs that each exit as soon as they start');
      assert.deepEqual(
        aliveAtResolve,
        [],
        `when runPool resolved, ${aliveAtResolve.length} job process(es) were still running (pids ` +
          `${aliveAtResolve.join(', ')}; results: ${JSON.stringify(results)}). Resolve only after every job ` +
          `has ended, including the last ones still running when the final job was started.`,
      );
      assert.deepEqual(stdoutsOf(results), names, `wrong results: ${JSON.stringify(results)}`);
    },
    TEST_MS,
  );

  test('resolves an empty job list to []', async () => {
    const results = await within(
      Promise.resolve(runPool([], 2)),
      START_MS,
      'runPool([], 2) never resolved. With no jobs there is nothing to wait for: resolve with [].',
    );
    assert.deepEqual(results, [], `runPool([], 2) should resolve with [], got ${JSON.stringify(results)}.`);
  });

  test('fails with a RangeError, starting nothing, when limit is not a positive integer', async () => {
    meet.autopilot({ 'must-not-start': 'exit 0' });
    const jobs = [meet.job('must-not-start')];
    for (const limit of [0, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const settle = (): Promise<{ value: unknown } | { error: unknown }> => {
        try {
          return runPool(jobs, limit).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
        } catch (error) {
          return Promise.resolve({ error });
        }
      };
      const outcome = await within(
        settle(),
        START_MS,
        `runPool(jobs, ${limit}) neither threw nor settled within ${inWords(scaled(START_MS))}. A limit that is not a ` +
          `positive integer must fail at once with a RangeError.`,
      );
      const what =
        'error' in outcome
          ? `failed with ${outcome.error instanceof Error ? `${outcome.error.name}: ${outcome.error.message}` : String(outcome.error)}`
          : `resolved with ${JSON.stringify(outcome.value)}`;
      assert.ok(
        'error' in outcome && outcome.error instanceof RangeError,
        `runPool(jobs, ${limit}) ${what}. A limit that is not a positive integer must fail with a RangeError ` +
          `(throw new RangeError(...)); check it before starting anything.`,
      );
      const started = meet.aliveJobs().length + meet.arrivals.length;
      assert.equal(
        started,
        0,
        `runPool(jobs, ${limit}) failed with a RangeError, but it had started the job first. Check \`limit\` before starting anything.`,
      );
    }
  });
});
