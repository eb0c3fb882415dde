import assert from 'node:assert/strict';
import path from 'node:path';
import { inWords, scaled } from '../../support/deadline';
import { startTeam, stopTeams, type RoundOptions } from '../../support/thread-team';

/**
 * Every transfer runs in a team member (fixtures/member.js) against the test's Bank, which checks the rules on
 * every call: balances only with both locks held, no lock left behind, and a deadlock reported the moment it
 * forms (a cycle in who-holds-what / who-waits-for-what), so it is a clear failure, never a hang. The dangerous
 * interleaving is forced: in a 'forced' round, a thread that has taken its first lock goes on only once the
 * other thread has taken a lock too, or is waiting for one.
 */
const MODULE = require.resolve('@target/09-classic-problems-and-deadlock/transfers');
const MEMBER = path.join(__dirname, 'fixtures', 'member.js');
const ACCOUNTS = 8;
const SIZE = 4;
/** Int32 slots of the shared memory: balances and lock owners per account, then per-thread bookkeeping. */
const LAYOUT = {
  accounts: ACCOUNTS,
  threads: SIZE,
  balance: 0,
  owner: ACCOUNTS,
  waitsFor: 2 * ACCOUNTS,
  lockEpoch: 2 * ACCOUNTS + SIZE,
  failedTries: 2 * ACCOUNTS + 2 * SIZE,
  done: 2 * ACCOUNTS + 3 * SIZE,
  lastTried: 2 * ACCOUNTS + 4 * SIZE,
  triedCount: 2 * ACCOUNTS + 5 * SIZE,
  sleep: 2 * ACCOUNTS + 6 * SIZE,
  abort: 2 * ACCOUNTS + 6 * SIZE + 1,
  slots: 2 * ACCOUNTS + 6 * SIZE + 2,
};
/**
 * Rounds take milliseconds; a deadlock in lock() fails at once. Only a thread spinning on tryLock while it holds
 * a lock can deadlock unseen, so the limit stays modest, yet far above what a correct round needs under load.
 * thread-team stretches round limits on a machine with less CPU (tests/support/deadline.ts).
 */
const ROUND_MS = 3000;
/** Starting the team's threads (each loads TypeScript and the graded module): only "never started" fails. */
const START_MS = 20000;
/** Per test: the first one starts the team, and on a loaded machine that alone can take seconds (stretched). */
const TEST_MS = scaled(30000);
/** How a thread's error starts when it gave up because another thread of the round failed. */
const ABORTED = 'aborted';
const idle = Array.from({ length: SIZE }, () => ({ kind: 'idle' }));

interface Shared {
  view: Int32Array;
  /** One round: member i gets tasks[i] ('idle' if there is none); results as plain data of this realm. */
  round<R>(tasks: object[]): Promise<R[]>;
}

/** "thread 0 holds account 1 and keeps trying account 2 (tryLock failed 5 times in a row)", from shared memory. */
function describeThread(view: Int32Array, thread: number): string {
  const held: number[] = [];
  for (let account = 0; account < ACCOUNTS; account++) {
    if (Atomics.load(view, LAYOUT.owner + account) === thread + 1) held.push(account);
  }
  const holds = held.length === 0 ? 'holds nothing' : `holds account${held.length > 1 ? 's' : ''} ${held.join(', ')}`;
  const waits = Atomics.load(view, LAYOUT.waitsFor + thread) - 1;
  const tried = Atomics.load(view, LAYOUT.lastTried + thread) - 1;
  if (waits >= 0) return `thread ${thread} ${holds} and waits in lock(${waits})`;
  if (tried >= 0) {
    const times = Atomics.load(view, LAYOUT.triedCount + thread);
    return `thread ${thread} ${holds} and keeps trying account ${tried} (tryLock failed ${times} times in a row)`;
  }
  return `thread ${thread} ${holds} and is not waiting for a lock`;
}

/**
 * The tests share one team (starting threads that load TypeScript is the slow part). What the graded code throws
 * comes back as a value (the round still succeeds); only a team whose round failed (a thread stuck) cannot run
 * another, so it is stopped at once and the next test starts a fresh one. afterAll stops the last.
 */
let current: Promise<Shared> | undefined;
afterAll(stopTeams);

async function team(balances: number[]): Promise<Shared> {
  current ??= (async () => {
    const memory = new SharedArrayBuffer(LAYOUT.slots * 4);
    const view = new Int32Array(memory);
    const started = await startTeam(MEMBER, SIZE, { memory, layout: LAYOUT, module: MODULE });
    const guarded = async <R>(tasks: object[], options: RoundOptions): Promise<R[]> => {
      try {
        return await started.round<R>(tasks, options);
      } catch (error) {
        // The round itself failed (a thread stuck past its time): this team cannot run another.
        current = undefined;
        await started.stop();
        throw error;
      }
    };
    // A first round of nothing: the threads start and load the graded module (seconds on a loaded machine)
    // before any round is timed by ROUND_MS.
    await guarded(idle, {
      ms: START_MS,
      describeStuck: (stuck) => `threads ${stuck.join(', ')} did not even start within ${inWords(scaled(START_MS))}.`,
    });
    const shared: Shared = {
      view,
      async round<R>(tasks: object[]): Promise<R[]> {
        const padded = Array.from({ length: SIZE }, (_, index) => tasks[index] ?? { kind: 'idle' });
        const busy = padded.flatMap((task, index) => ((task as { kind: string }).kind === 'idle' ? [] : [index]));
        view.fill(0, LAYOUT.waitsFor);
        const replies = await guarded<{ value?: R; error?: string }>(padded, {
          ms: ROUND_MS,
          describeStuck: (stuck) =>
            `deadlocked: thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} never finished (waited ` +
            `${inWords(scaled(ROUND_MS))}): ${busy.map((thread) => describeThread(view, thread)).join('; ')}. A thread ` +
            `that holds a lock while it waits for another (in lock(), or retrying tryLock without first letting go ` +
            `of what it holds) waits for ever once another thread does the same the other way round. Take the locks ` +
            `in one global order, or unlock the first when tryLock of the second fails, and start over.`,
        });
        // A thread that failed makes the others give up too ("aborted"): report the first real failure.
        const failures = replies.flatMap((reply, thread) =>
          reply.error === undefined ? [] : [{ thread, error: reply.error }],
        );
        const first = failures.find((failure) => !failure.error.startsWith(ABORTED)) ?? failures[0];
        if (first) {
          // The Bank's own messages already say which thread; the graded code's ("Not implemented…") do not.
          const named = /^(thread \d|deadlocked)/.test(first.error);
          throw new Error(named ? first.error : `thread ${first.thread}: ${first.error}`);
        }
        // Results come from another realm (Jest's test context is a vm context): rebuild them as plain data.
        return JSON.parse(JSON.stringify(replies.map((reply) => reply.value))) as R[];
      },
    };
    return shared;
  })();
  const shared = await current;
  shared.view.fill(0);
  shared.view.set(balances, LAYOUT.balance);
  return shared;
}

const balancesOf = (view: Int32Array): number[] => [...view.slice(LAYOUT.balance, LAYOUT.balance + ACCOUNTS)];
const lockedAccounts = (view: Int32Array): number[] =>
  [...view.slice(LAYOUT.owner, LAYOUT.owner + ACCOUNTS)].flatMap((owner, account) => (owner ? [account] : []));

describe('transfer()', () => {
  test(
    'moves the money and returns true, holding both locks while it touches either balance',
    async () => {
      const shared = await team([100, 100, 100, 50]);
      const transfers = [
        [0, 1, 30],
        [2, 0, 100],
        [1, 3, 1],
        [3, 3, 10],
      ];
      const [results] = await shared.round<boolean[]>([{ kind: 'solo', transfers }]);
      const calls = transfers.map(([from, to, amount]) => `transfer(bank, ${from}, ${to}, ${amount})`).join(', ');
      assert.deepEqual(
        results,
        [true, true, true, true],
        `${calls} on balances [100, 100, 100, 50] should all return true (the last moves nothing: from === to); they ` +
          `returned [${results.join(', ')}].`,
      );
      const balances = balancesOf(shared.view).slice(0, 4);
      assert.deepEqual(
        balances,
        [170, 129, 0, 51],
        `after ${calls}, the balances should be [170, 129, 0, 51]; they are [${balances.join(', ')}].`,
      );
    },
    TEST_MS,
  );

  test(
    'refuses a transfer the source cannot cover: returns false, changes nothing, and releases both locks',
    async () => {
      const shared = await team([100, 20, 7]);
      const transfers = [
        [1, 0, 21],
        [2, 2, 8],
        [0, 1, 100],
        [1, 2, 120],
      ];
      const [results] = await shared.round<boolean[]>([{ kind: 'solo', transfers }]);
      const calls = transfers.map(([from, to, amount]) => `transfer(bank, ${from}, ${to}, ${amount})`).join(', ');
      assert.deepEqual(
        results,
        [false, false, true, true],
        `${calls} on balances [100, 20, 7] should return [false, false, true, true]: a transfer of more than the ` +
          `source holds is refused, one of exactly what it holds goes through. They returned [${results.join(', ')}].`,
      );
      const balances = balancesOf(shared.view).slice(0, 3);
      assert.deepEqual(
        balances,
        [0, 0, 127],
        `after ${calls}, the balances should be [0, 0, 127] (a refused transfer changes nothing); they are ` +
          `[${balances.join(', ')}].`,
      );
    },
    TEST_MS,
  );

  test(
    'two opposite transfers started at the same moment do not deadlock',
    async () => {
      const shared = await team([]);
      for (const [a, b] of [
        [1, 2],
        [2, 1],
      ]) {
        shared.view.fill(0);
        shared.view.set([0, 100, 100], LAYOUT.balance);
        const [first, second] = await shared.round<boolean>([
          { kind: 'forced', from: a, to: b, amount: 30, partner: 1 },
          { kind: 'forced', from: b, to: a, amount: 50, partner: 0 },
        ]);
        const results = [first, second];
        const balances = balancesOf(shared.view).slice(1, 3);
        const expected = a === 1 ? [120, 80] : [80, 120];
        assert.deepEqual(
          { results, balances },
          { results: [true, true], balances: expected },
          `thread 0 ran transfer(bank, ${a}, ${b}, 30) while thread 1 ran transfer(bank, ${b}, ${a}, 50), each ` +
            `held after its first lock until the other had locked or was waiting: both should return true and ` +
            `accounts 1 and 2 hold [${expected.join(', ')}]; they returned [${results.join(', ')}] and the ` +
            `accounts hold [${balances.join(', ')}].`,
        );
      }
    },
    TEST_MS,
  );

  test(
    'many threads making random transfers at once conserve the money and never overdraw an account',
    async () => {
      const accounts = 5;
      const initial = [100, 100, 100, 100, 100];
      const n = 1500;
      const shared = await team(initial);
      for (let round = 1; round <= 2; round++) {
        shared.view.fill(0);
        shared.view.set(initial, LAYOUT.balance);
        const results = await shared.round<{ net: number[]; moved: number; refused: number }>(
          Array.from({ length: SIZE }, (_, thread) => ({
            kind: 'random',
            seed: round * 1000 + thread,
            n,
            accounts,
            maxAmount: 60,
          })),
        );
        const expected = initial.map(
          (balance, account) => balance + results.reduce((sum, result) => sum + result.net[account], 0),
        );
        const balances = balancesOf(shared.view).slice(0, accounts);
        const total = balances.reduce((sum, balance) => sum + balance, 0);
        assert.deepEqual(
          balances,
          expected,
          `round ${round}: ${SIZE} threads each made ${n} random transfers among ${accounts} accounts of 100. From ` +
            `what the transfers that returned true moved, the balances should be [${expected.join(', ')}] (total ` +
            `500); they are [${balances.join(', ')}] (total ${total}). Money was ${total === 500 ? 'moved wrongly' : total > 500 ? 'made' : 'lost'}: ` +
            `a transfer must read and write both balances while holding both locks.`,
        );
        const moved = results.reduce((sum, result) => sum + result.moved, 0);
        const refused = results.reduce((sum, result) => sum + result.refused, 0);
        assert.ok(
          moved > 0 && refused > 0,
          `round ${round}: of ${SIZE * n} random transfers, ${moved} returned true and ${refused} false; with ` +
            `amounts up to 60 on balances of about 100, both should happen.`,
        );
        assert.deepEqual(lockedAccounts(shared.view), [], `round ${round}: accounts were left locked.`);
      }
    },
    TEST_MS,
  );
});
