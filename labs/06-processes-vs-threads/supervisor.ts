/**
 * A supervisor: a parent whose job is to keep its children running. It restarts a child that ends, after a
 * back-off that doubles with each quick crash (100, 200, 400 ms …), and gives up on a child that crashes
 * more than MAX_RESTARTS times within WINDOW_MS (its restart budget). The other children are never touched.
 * Three children: 'steady' never fails, 'flaky' crashes once, 'broken' crashes every time it starts.
 *
 *   npx tsx labs/06-processes-vs-threads/supervisor.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';

const BASE_DELAY_MS = 100; // first back-off; doubles after each crash, capped at MAX_DELAY_MS
const MAX_DELAY_MS = 2000;
const STABLE_MS = 5000; // a child that ran this long before it ended gets the short back-off again
const MAX_RESTARTS = 3; // the budget: at most this many restarts ...
const WINDOW_MS = 5000; // ... within this many milliseconds
const LIMIT_MS = 15_000; // the lab stops everything once 'broken' is given up and 'flaky' runs again, or by then

// What each child does. ATTEMPT (1, 2, …) tells it how many times it has been started.
const PROGRAMS: Record<string, string> = {
  steady: `setInterval(() => {}, 1000);`,
  flaky: `setTimeout(() => { if (process.env.ATTEMPT === '1') throw new Error('flaky failed'); }, 300);
          setInterval(() => {}, 1000);`,
  broken: `throw new Error('broken: missing configuration');`,
};

const t0 = performance.now();
const log = (text: string): void => console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${text}`);

interface Supervised {
  name: string;
  child?: ChildProcess;
  attempt: number; // how many times it has been started
  delayMs: number; // the next back-off
  restarts: number[]; // when each restart happened, for the budget
  gaveUp: boolean;
}

let stopping = false;
const timers = new Set<NodeJS.Timeout>();

function start(s: Supervised): void {
  s.attempt++;
  const startedAt = performance.now();
  const child = spawn(process.execPath, ['-e', PROGRAMS[s.name]!], {
    env: { ...process.env, ATTEMPT: String(s.attempt) },
    stdio: 'ignore',
  });
  s.child = child;
  log(`${s.name.padEnd(6)} started, pid ${child.pid} (attempt ${s.attempt})`);
  child.on('exit', (code, signal) => {
    s.child = undefined;
    if (stopping) return;
    const ranMs = performance.now() - startedAt;
    log(`${s.name.padEnd(6)} pid ${child.pid} ended (${signal ?? `code ${code}`}) after ${ranMs.toFixed(0)} ms`);
    if (ranMs >= STABLE_MS) s.delayMs = BASE_DELAY_MS; // it had been healthy: a fresh failure, not a loop

    const now = performance.now();
    s.restarts = s.restarts.filter((at) => now - at < WINDOW_MS);
    if (s.restarts.length >= MAX_RESTARTS) {
      s.gaveUp = true;
      log(`${s.name.padEnd(6)} budget spent (${MAX_RESTARTS} restarts in ${WINDOW_MS} ms): giving up on it`);
      return;
    }
    s.restarts.push(now);
    log(`${s.name.padEnd(6)} restart ${s.restarts.length} of ${MAX_RESTARTS} in ${s.delayMs} ms`);
    const timer = setTimeout(() => {
      timers.delete(timer);
      start(s);
    }, s.delayMs);
    timers.add(timer);
    s.delayMs = Math.min(s.delayMs * 2, MAX_DELAY_MS);
  });
}

async function main(): Promise<void> {
  const all: Supervised[] = Object.keys(PROGRAMS).map((name) => ({
    name,
    attempt: 0,
    delayMs: BASE_DELAY_MS,
    restarts: [],
    gaveUp: false,
  }));
  all.forEach(start);
  const steadyPid = all[0]!.child!.pid;

  const [, flaky, broken] = all;
  while (!(broken!.gaveUp && flaky!.attempt >= 2) && performance.now() - t0 < LIMIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // 'flaky', restarted, keeps running
  stopping = true;
  for (const timer of timers) clearTimeout(timer);
  log('stopping: SIGTERM to every running child');
  await Promise.all(
    all.map((s) => {
      const child = s.child;
      if (!child) return undefined;
      return new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }),
  );
  for (const s of all) {
    const state = s.gaveUp ? 'given up' : 'was running';
    console.log(`${s.name.padEnd(6)} started ${s.attempt} time(s); ${state} at the end`);
  }
  console.log(`steady kept pid ${steadyPid} the whole time: ${all[0]!.attempt === 1 ? 'yes' : 'no'}`);
}

void main();
