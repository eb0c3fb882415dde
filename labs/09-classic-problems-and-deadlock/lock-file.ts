/**
 * Locking across processes with a lock file. Processes share no memory, so no Atomics: what they share is the
 * file system, and open(path, 'wx') — O_CREAT | O_EXCL — either creates the file or fails with EEXIST, in one
 * step that the kernel does for exactly one of the callers. The lab runs four child processes of its own:
 *   1. three children add 1 to a number in a file, 100 times each, without and with the lock file;
 *   2. a child takes the lock and is killed: its lock file stays, naming a pid that no longer exists;
 *   3. two waiters both find that stale lock and break it: the naive way lets both in, the careful way one;
 *   4. flock(1): a lock the kernel keeps, and drops when its holder dies (where the flock command exists).
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/lock-file.ts
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  closeSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { sleep } from './sab-lock';

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

type Create = 'wx' | 'link';
let create: Create = 'wx'; // how tryAcquire creates lock files: the lab tries both

/** One attempt: creates the lock file with our pid in it, or finds it there already. */
function tryAcquire(lockPath: string): boolean {
  if (create === 'link') {
    // Write the whole file under a name of our own, then give it the lock's name: link() fails with EEXIST
    // if that name exists, like 'wx' — but the lock file appears with its content already in it.
    const tmp = `${lockPath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`);
    try {
      linkSync(tmp, lockPath);
      return true;
    } catch (e) {
      if (errno(e) === 'EEXIST') return false;
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx'); // O_CREAT | O_EXCL: fails with EEXIST if the file exists
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw e;
  }
  writeSync(fd, `${process.pid}\n`); // until this line has run, the lock file exists and is empty
  closeSync(fd);
  return true;
}

/** Removes the lock file if it is still ours; returns the pid it named instead, if it was not. */
function release(lockPath: string): number | null {
  const holder = holderOf(lockPath);
  if (holder !== process.pid) return holder; // someone removed ours, and perhaps took the lock since
  unlinkSync(lockPath);
  return process.pid;
}

let emptyLocks = 0; // lock files this process found empty: created, and the pid not written yet

/** The pid in a lock file; null if there is no file, or if its creator has not written its pid yet. */
function holderOf(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (!Number.isInteger(pid)) emptyLocks++;
    return Number.isInteger(pid) ? pid : null;
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

/** Whether a process with this pid exists: signal 0 checks without sending anything. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM'; // it exists, but belongs to someone else
  }
}

type Breaking = 'never' | 'naive' | 'careful';

/**
 * Waits until it holds the lock. A lock whose holder is dead is stale; `breaking` says what to do about it.
 * `pauseMs` widens the moment between deciding that the lock is stale and removing it.
 */
function acquire(lockPath: string, breaking: Breaking, pauseMs = 0, giveUpMs = Infinity): boolean {
  const start = performance.now();
  for (;;) {
    if (tryAcquire(lockPath)) return true;
    if (performance.now() - start > giveUpMs) return false;
    const holder = holderOf(lockPath);
    if (breaking === 'naive' && holder !== null && !alive(holder)) {
      sleep(pauseMs);
      try {
        unlinkSync(lockPath); // remove the stale lock ... or whatever lock is there by now
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
      continue;
    }
    if (breaking === 'careful' && holder !== null && !alive(holder)) {
      const breakPath = `${lockPath}.breaking-${holder}`; // one breaker per dead holder
      if (tryAcquire(breakPath)) {
        // Only one process at a time gets here. Look again: is it still the same dead holder?
        try {
          sleep(pauseMs);
          if (holderOf(lockPath) === holder) unlinkSync(lockPath);
        } finally {
          release(breakPath);
        }
        continue;
      }
    }
    sleep(1 + Math.random() * 2); // back off, then try again
  }
}

type Command =
  | { kind: 'count'; counter: string; lockPath: string | null; create: Create; times: number }
  | { kind: 'hold'; lockPath: string }
  | { kind: 'wait'; lockPath: string; giveUpMs: number }
  | { kind: 'enter'; lockPath: string; breaking: Breaking; pauseMs: number; log: string };

function child(): void {
  process.on('message', (command: Command) => {
    if (command.kind === 'count') {
      const start = performance.now();
      create = command.create;
      emptyLocks = 0;
      let empty = 0;
      for (let i = 0; i < command.times; i++) {
        if (command.lockPath) acquire(command.lockPath, 'never');
        const text = readFileSync(command.counter, 'utf8'); // read ...
        if (text === '') empty++; // another process had emptied the file to write it, and not yet written
        writeFileSync(command.counter, String(Number(text) + 1)); // ... and write back plus one
        if (command.lockPath) release(command.lockPath);
      }
      process.send!({ ms: performance.now() - start, empty, emptyLocks });
    } else if (command.kind === 'hold') {
      acquire(command.lockPath, 'never');
      process.send!({ holding: true }); // and keep it, until someone kills us
    } else if (command.kind === 'wait') {
      process.send!({ got: acquire(command.lockPath, 'never', 0, command.giveUpMs) });
    } else {
      acquire(command.lockPath, command.breaking, command.pauseMs);
      appendFileSync(command.log, `in ${process.pid}\n`);
      sleep(300); // hold the lock a while
      const holder = release(command.lockPath);
      const note = holder === process.pid ? '' : ` (the lock file was ${holder ? `${holder}'s` : 'gone'})`;
      appendFileSync(command.log, `out ${process.pid}${note}\n`);
      process.send!({ done: true });
    }
  });
  process.send!({ ready: true });
}

/** Sends a child a command and resolves with its reply; rejects if the child dies first. */
function ask(c: ChildProcess, command: Command): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const died = (code: number | null, signal: string | null): void =>
      reject(new Error(`child ${c.pid} died (${signal ?? `code ${code}`})`));
    c.once('exit', died);
    c.once('message', (reply: Record<string, unknown>) => {
      c.off('exit', died);
      resolve(reply);
    });
    c.send(command);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lock-file-'));
  const lockPath = path.join(dir, 'counter.lock');
  const counter = path.join(dir, 'counter');
  const team = [0, 1, 2, 3].map(() => fork(__filename, ['child']));
  const watchdog = setTimeout(() => {
    console.log('the lab took more than 60 s: stopping it');
    for (const p of team) p.kill('SIGKILL');
    process.exit(1);
  }, 60_000).unref();
  try {
    await Promise.all(team.map((c) => once(c, 'message'))); // every child is ready
    const [a, b, c, doomed] = team as [ChildProcess, ChildProcess, ChildProcess, ChildProcess];

    console.log('1. three processes each add 1 to the number in a file, 100 times (300 in all)');
    const head = (a: string, b: string, c: string, d: string): void =>
      console.log(`   ${''.padEnd(29)} ${a.padStart(5)} ${b.padStart(14)}${c.padStart(13)} ${d.padStart(11)}`);
    head('total', 'empty reads', 'empty lock', 'ms per');
    head('', 'of the counter', 'files seen', 'increment');
    for (const [title, lock, how] of [
      ['without a lock', null, 'wx'],
      ["lock file, open 'wx' + write", lockPath, 'wx'],
      ['lock file, write + link()', lockPath, 'link'],
    ] as const) {
      writeFileSync(counter, '0');
      const command = { kind: 'count', counter, lockPath: lock, create: how, times: 100 } as const;
      const replies = await Promise.all([a, b, c].map((p) => ask(p, command)));
      const ms = Math.max(...replies.map((r) => r.ms as number));
      const sum = (key: string): number => replies.reduce((total, r) => total + (r[key] as number), 0);
      const total = Number(readFileSync(counter, 'utf8'));
      console.log(
        `   ${title.padEnd(29)} ${String(total).padStart(5)} ${String(sum('empty')).padStart(14)}` +
          `${String(lock ? sum('emptyLocks') : '-').padStart(13)} ${(ms / 100).toFixed(2).padStart(11)}`,
      );
    }

    console.log('2. a process takes the lock and is killed with SIGKILL');
    await ask(doomed, { kind: 'hold', lockPath });
    const deadPid = doomed.pid!;
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    console.log(`   the lock file is still there and names pid ${holderOf(lockPath)}; alive: ${alive(deadPid)}`);
    const started = performance.now();
    const { got } = await ask(a, { kind: 'wait', lockPath, giveUpMs: 1000 });
    console.log(
      `   a waiter that only retries: got the lock: ${got}, gave up after ${(performance.now() - started).toFixed(0)} ms`,
    );

    console.log('3. two waiters find the stale lock, 100 ms apart, and break it');
    for (const breaking of ['naive', 'careful'] as const) {
      writeFileSync(lockPath, String(deadPid)); // the dead holder's lock, as it was left
      const log = path.join(dir, `${breaking}.log`);
      writeFileSync(log, '');
      const first = ask(a, { kind: 'enter', lockPath, breaking, pauseMs: 300, log });
      await wait(100);
      const second = ask(b, { kind: 'enter', lockPath, breaking, pauseMs: 300, log });
      await Promise.all([first, second]);
      const events = readFileSync(log, 'utf8').trim().split('\n');
      let inside = 0;
      let most = 0;
      for (const e of events) most = Math.max(most, (inside += e.startsWith('in') ? 1 : -1));
      const how = breaking === 'naive' ? 'check, remove, create' : 'check again under a second lock, then remove';
      console.log(`   ${breaking.padEnd(7)} (${how}): ${events.join(', ')}`);
      console.log(`           processes holding the lock at the same time: ${most}`);
    }

    console.log('4. flock(1): the kernel holds the lock, for an open file');
    flockPart(path.join(dir, 'flock.lock'));
  } finally {
    for (const p of team) if (p.exitCode === null && p.signalCode === null) p.kill();
    await Promise.all(team.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => once(p, 'exit')));
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

function flockPart(file: string): void {
  if (spawnSync('flock', ['--version']).error) {
    console.log('   (no flock command on this system: skipped)');
    return;
  }
  const holder = spawn('flock', [file, 'sleep', '30'], { detached: true, stdio: 'ignore' }); // its own group
  for (let i = 0; i < 200 && spawnSync('flock', ['-n', file, 'true']).status === 0; i++) sleep(10);
  const busy = spawnSync('flock', ['-n', file, 'true']).status;
  console.log(`   while a holder runs, flock -n exits with ${busy} (1: the lock is taken)`);
  process.kill(-holder.pid!, 'SIGKILL'); // the holder and the sleep it started: they share the open file
  let free = 1;
  const start = performance.now();
  while (free !== 0 && performance.now() - start < 2000) free = spawnSync('flock', ['-n', file, 'true']).status ?? 1;
  console.log(
    `   after SIGKILL to the holder: flock -n exits with ${free}, ${(performance.now() - start).toFixed(0)} ms later; no stale lock`,
  );
}

if (process.argv[2] === 'child') child();
else void main();
