// The thread-team harness the shared-memory suites rely on: results in member order, errors and stuck
// members reported, and no thread left behind — also one blocked in Atomics.wait.
import path from 'node:path';
import { startTeam, stopTeams } from '../../tests/support/thread-team';
import { threadCount } from '../../tests/support/processes';

const FIXTURE = path.join(__dirname, 'fixtures', 'team-fixture.js');

afterEach(stopTeams);

test('rounds give each member its task and return the results in member order', async () => {
  const team = await startTeam(FIXTURE, 3, { shared: new SharedArrayBuffer(8) });
  expect(await team.round(['index', 'index', 'index'])).toEqual([0, 1, 2]);
  const arrivals = await team.round<number>('arrivals');
  expect([...arrivals].sort()).toEqual([0, 1, 2]);
});

test('a member that cannot load fails the start of the team, with its error', async () => {
  const before = threadCount();
  await expect(startTeam(path.join(__dirname, 'fixtures', 'team-fails-to-load.js'), 2)).rejects.toThrow(
    /thread \d crashed: .*broken at load time/s,
  );
  expect(threadCount()).toBeLessThanOrEqual(before);
});

test('a member that throws fails the round with its message', async () => {
  const team = await startTeam(FIXTURE, 2, { shared: new SharedArrayBuffer(8) });
  await expect(team.round('throw')).rejects.toThrow(/thread \d: the task failed on purpose/);
});

test('a member that never answers is reported as deadlocked, and stopping ends its thread', async () => {
  const before = threadCount();
  const team = await startTeam(FIXTURE, 2, { shared: new SharedArrayBuffer(8) });
  await expect(team.round('block', { ms: 300 })).rejects.toThrow(
    'deadlocked: thread 1 of 2 never finished round 1 (waited 300 ms).',
  );
  await expect(team.round('index')).rejects.toThrow(/deadlocked/);
  await stopTeams();
  expect(threadCount()).toBeLessThanOrEqual(before);
});
