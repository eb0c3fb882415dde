import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireLockFile } from '@target/09-classic-problems-and-deadlock/lock-file';
import { inWords, scaled, within } from '../../support/deadline';
import { isAlive } from '../../support/processes';

/*
 * Real processes (tests/…/fixtures/participant.js, driven over IPC) compete for one lock file. Orderings
 * are forced: a holder keeps the lock until the test tells it to release, is killed while it holds, or is
 * this very process. Deadlines only turn "never happened" into a clear "deadlocked" failure.
 */

const MODULE = require.resolve('@target/09-classic-problems-and-deadlock/lock-file');
const FIXTURE = path.join(__dirname, 'fixtures', 'participant.js');
/*
 * The limits below are written for the reference machine (2 CPUs). The deadlines are stretched on one with less
 * CPU (tests/support/deadline.ts: within() and until() stretch what they are given); HOLD_MS, a hold the test
 * plays out, and RETRY_MS, passed to the graded code, are behaviour and are not.
 */
/** How long a process may take to start, or to get a free lock, before the test gives up. */
const DEADLINE_MS = 10_000;
/**
 * How long the waiters may take to take over a lock whose holder is dead (they look every RETRY_MS). A liveness
 * deadline, stretched: a correct waiter takes over within a few looks, only later on a slow machine; the variant
 * it catches (never-breaks-a-stale-lock) never takes over at all, so no stretch can let it through.
 */
const TAKEOVER_MS = 5000;
/** Jest's limit for one test: several processes start, and a deadline may expire. */
const TEST_MS = scaled(30_000);
/**
 * How long this process holds the lock in "never robbed": far longer than a waiter needs to try many times.
 * Not stretched (the chapter promises 1.5 s). A correct waiter never takes a live holder's lock, however long
 * it is held, so no machine can make it fail. A waiter that robs live holders by age (stale-after-half-a-second:
 * once the lock file is 500 ms old) still robs well within it on a slow machine: the lock file was made before
 * the waiter was even started, so by the time it asks it is already hundreds of ms old (older on a slower
 * machine, where starting a process takes longer), and the robbery takes a few file operations, tens of ms even
 * on half a CPU: that leaves a margin of about a second.
 */
const HOLD_MS = 1500;
/**
 * In the forced test: how long the test waits for the process that does not hold the lock to act (take the
 * lock, or look at it three times) before it checks that the process has not taken it. Only a waiter that does
 * not look again and again (it watches the file, say) uses it all; stretched, as it gives a process time to act.
 */
const ACT_MS = 1500;
const RETRY_MS = 5;

interface Message {
  event: string;
  pid: number;
  message?: string;
  overlaps?: string[];
}

const changes = new EventEmitter();
const participants: Participant[] = [];
const dirs: string[] = [];

afterEach(async () => {
  const leaving = participants.splice(0);
  for (const participant of leaving) participant.child.kill('SIGKILL');
  await Promise.all(leaving.map((participant) => participant.gone));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

class Participant {
  readonly events: Message[] = [];
  failure: Error | undefined;
  expectExit = false;
  readonly gone: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: Message) => {
      this.events.push(message);
      if (message.event === 'error') this.failure ??= new Error(`${this.label()}: ${message.message}`);
      changes.emit('change');
    });
    this.gone = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.expectExit)
          this.failure ??= new Error(`${this.label()} exited unexpectedly (code ${code}, signal ${signal}).`);
        changes.emit('change');
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  label(): string {
    return `${this.name} (pid ${this.pid})`;
  }

  count(event: string): number {
    return this.events.filter((message) => message.event === event).length;
  }

  send(command: object): void {
    this.child.send(command);
  }
}

/** Starts a participant process and waits until it has loaded the graded module. */
async function start(name: string): Promise<Participant> {
  const child = fork(FIXTURE, [MODULE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const participant = new Participant(name, child);
  participants.push(participant);
  await until(
    () => participant.count('ready') > 0,
    () => `${name} did not start within ${inWords(scaled(DEADLINE_MS))}.`,
  );
  return participant;
}

/**
 * Waits until `condition` holds, rechecking whenever a participant reports something (and every `pollMs`, for
 * conditions on files). Throws at once the error a participant reported (the graded code threw), and fails with
 * `describe()` after `ms`, stretched on a machine with less CPU.
 */
function until(condition: () => boolean, describe: () => string, ms = DEADLINE_MS, pollMs?: number): Promise<void> {
  return untilWithin(condition, describe, scaled(ms), pollMs);
}

/** until() with a limit of exactly `ms`, not stretched: for a hold the test plays out. */
async function untilWithin(
  condition: () => boolean,
  describe: () => string,
  ms: number,
  pollMs = Infinity,
): Promise<void> {
  const give = Date.now() + ms;
  for (;;) {
    const failed = participants.find((participant) => participant.failure);
    if (failed) throw failed.failure;
    if (condition()) return;
    const left = give - Date.now();
    if (left <= 0) assert.fail(describe());
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        changes.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(left, pollMs));
      changes.on('change', done);
    });
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lock-file-'));
  dirs.push(dir);
  return dir;
}

/** The pid on the lock file's first line, or undefined if there is no lock file. */
function lockHolder(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function describeLock(file: string): string {
  const pid = lockHolder(file);
  if (pid === undefined) return 'there is no lock file';
  return `the lock file names pid ${pid}, which is ${isAlive(pid) ? 'alive' : 'dead'}`;
}

describe('acquireLockFile()', () => {
  test(
    'four processes doing twenty locked read-modify-writes each, with awaits inside, count exactly to 80',
    async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'counter.lock');
      const counter = path.join(dir, 'counter');
      const inside = path.join(dir, 'inside');
      writeFileSync(counter, '0');
      const team = await Promise.all([1, 2, 3, 4].map((index) => start(`process ${index}`)));
      for (const member of team) member.send({ cmd: 'count', file, counter, inside, n: 20, retryMs: RETRY_MS });
      await until(
        () => team.every((member) => member.count('counted') > 0),
        () =>
          `deadlocked: ${team
            .filter((member) => member.count('counted') === 0)
            .map((member) => member.label())
            .join(', ')} never finished their 20 locked updates; the counter is at ${readFileSync(counter, 'utf8')} ` +
          `and ${describeLock(file)}.`,
      );
      const overlaps = team.flatMap((member) => member.events.find((event) => event.event === 'counted')!.overlaps!);
      const value = Number(readFileSync(counter, 'utf8'));
      assert.equal(
        value,
        80,
        `4 processes each did 20 read-modify-writes of a counter file (read, await, write the value plus one) while ` +
          `holding the lock, but the counter ended at ${value}, not 80. ` +
          (overlaps.length > 0
            ? `Two processes held the lock at once: ${overlaps.slice(0, 3).join('; ')}. `
            : 'Updates were lost. ') +
          `Creating the lock file must be one atomic step that fails if it exists (link(), or open with 'wx'), not a ` +
          `check for the file followed by a write: two processes can both see it absent.`,
      );
      assert.deepEqual(overlaps, [], `two processes held the lock at once: ${overlaps.join('; ')}.`);
      assert.ok(!existsSync(file), `every process released the lock, but ${describeLock(file)}.`);
    },
    TEST_MS,
  );

  test(
    'a process that has found the lock file absent cannot take the lock after another process took it',
    async () => {
      // A forced schedule: process A asks for the free lock, and the first time its acquireLockFile() finds the
      // lock file absent (existsSync, stat, access, readFile or open says so), A is paused right there, before
      // the graded code gets the answer. Meanwhile process B asks, and takes the lock. Then A goes on. A check
      // followed by a separate create lets A in beside B, in every run; an atomic create (link, or open with
      // 'wx') fails with EEXIST, and A waits. On a machine with one CPU, this pause is what happens whenever
      // the system switches processes at that point. A lock that never looks before it creates is never
      // paused: then the two simply take turns.
      const dir = await tempDir();
      const file = path.join(dir, 'shared.lock');
      const control = path.join(dir, 'test-control');
      mkdirSync(control);
      const pausedFile = path.join(control, 'paused');
      const [first, second] = await Promise.all([start('process A'), start('process B')]);
      first.send({
        cmd: 'acquire',
        file,
        retryMs: RETRY_MS,
        watch: { looks: true, pauseDir: control, pauseMs: scaled(DEADLINE_MS) },
      });
      await until(
        () => existsSync(pausedFile) || first.count('acquired') > 0,
        () => `deadlocked: ${first.label()} never got the free lock; ${describeLock(file)}.`,
        DEADLINE_MS,
        5,
      );
      const paused = existsSync(pausedFile) ? readFileSync(pausedFile, 'utf8') : undefined;
      second.send({ cmd: 'acquire', file, retryMs: RETRY_MS, watch: { looks: true } });
      let tookWhilePaused = false;
      if (paused !== undefined) {
        // B takes the free lock while A is paused. (A lock that makes B wait for A's check is not wrong: then A
        // goes on after a while anyway, and the two must still take turns.)
        await until(
          () => second.count('acquired') > 0,
          () => '',
          ACT_MS,
        ).catch(() => undefined);
        tookWhilePaused = second.count('acquired') > 0;
        writeFileSync(path.join(control, 'go'), '');
      }
      const both = [first, second];
      const released = new Set<Participant>();
      for (let turn = 1; turn <= both.length; turn += 1) {
        await until(
          () => both.some((member) => member.count('acquired') > 0 && !released.has(member)),
          () =>
            `deadlocked: ${both
              .filter((member) => member.count('acquired') === 0)
              .map((member) => member.label())
              .join(' and ')} still wait${turn === 1 ? '' : 's'} for the lock` +
            `${turn === 1 ? '' : ', after the other process released it'}; ${describeLock(file)}.`,
        );
        const holder = both.find((member) => member.count('acquired') > 0 && !released.has(member))!;
        const other = both.find((member) => member !== holder)!;
        if (!released.has(other)) {
          // Give the other process time to act: to take the lock too (wrongly), or to look at it again and again.
          const looked = other.count('looked');
          await until(
            () => other.count('acquired') > 0 || other.count('looked') >= looked + 3,
            () => '',
            ACT_MS,
          ).catch(() => undefined);
          assert.equal(
            other.count('acquired'),
            0,
            `${holder.label()} and ${other.label()} both held the lock at once. ` +
              (paused !== undefined
                ? `The test paused ${first.label()} inside acquireLockFile() right after it found the lock file ` +
                  `absent (${paused}), and let ${second.label()} ask for the lock${tookWhilePaused ? ' and take it' : ''}. ` +
                  `Then ${first.label()} went on, and its acquireLockFile() resolved too, without noticing that ` +
                  `the lock file now existed. On a machine with one CPU this pause happens whenever the system ` +
                  `switches processes at that point. `
                : '') +
              `Checking that the lock file is absent and then creating it are two steps, and another process ` +
              `can create it in between: create it in one atomic step that fails if it already exists. Write ` +
              `the content under a unique temporary name and link() it to the lock file's name (or open it with ` +
              `'wx'), and treat EEXIST as "held".`,
          );
        }
        released.add(holder);
        holder.send({ cmd: 'release' });
        await until(
          () => holder.count('released') > 0,
          () => 'release() never resolved.',
        );
      }
      assert.ok(!existsSync(file), `both processes held and released the lock, but ${describeLock(file)}.`);
    },
    TEST_MS,
  );

  test(
    'a holder killed with SIGKILL does not block the waiting processes for ever, and they hold the lock one at a time',
    async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'shared.lock');
      const everyone = await Promise.all(['the holder', 'waiter 1', 'waiter 2', 'waiter 3'].map((name) => start(name)));
      const holder = everyone[0]!;
      const waiters = everyone.slice(1);
      holder.send({ cmd: 'acquire', file, retryMs: RETRY_MS });
      await until(
        () => holder.count('acquired') > 0,
        () => `deadlocked: the holder never got the free lock; ${describeLock(file)}.`,
      );
      for (const waiter of waiters) waiter.send({ cmd: 'acquire', file, retryMs: RETRY_MS });
      await until(
        () => waiters.every((waiter) => waiter.count('asking') > 0),
        () => 'the waiters never called acquireLockFile().',
      );

      holder.expectExit = true;
      holder.child.kill('SIGKILL');
      await holder.gone;
      await until(
        () => !isAlive(holder.pid),
        () => `the holder (pid ${holder.pid}) did not die.`,
      );

      const released = new Set<Participant>();
      for (let turn = 1; turn <= waiters.length; turn += 1) {
        await until(
          () => waiters.some((waiter) => waiter.count('acquired') > 0 && !released.has(waiter)),
          () => {
            const waiting = waiters.filter((waiter) => waiter.count('acquired') === 0).map((waiter) => waiter.label());
            const pid = lockHolder(file);
            return pid === holder.pid
              ? `deadlocked: the lock file still names pid ${holder.pid}, which is dead (killed with SIGKILL while it ` +
                  `held the lock), ${inWords(scaled(TAKEOVER_MS))} later; ${waiting.join(', ')} still wait for it. A lock whose holder ` +
                  `is dead (process.kill(pid, 0) throws ESRCH) is stale: one waiter must take it over.`
              : `deadlocked: ${waiting.join(', ')} still wait for the lock, ${inWords(scaled(TAKEOVER_MS))} after the process before ` +
                  `them released it; ${describeLock(file)}.`;
          },
          TAKEOVER_MS,
        );
        const holders = waiters.filter((waiter) => waiter.count('acquired') > 0 && !released.has(waiter));
        assert.equal(
          holders.length,
          1,
          `${holders.map((waiter) => waiter.label()).join(' and ')} hold the lock at the same time. When several waiters ` +
            `find the same stale lock, only one may remove it: one that removes the lock file after another waiter has ` +
            `already replaced it with its own robs a live holder.`,
        );
        // Hold it a moment, so a second process taking it over too would be seen, then release.
        await new Promise((resolve) => setTimeout(resolve, 10 * RETRY_MS));
        const current = holders[0]!;
        released.add(current);
        current.send({ cmd: 'release' });
      }
      await until(
        () => waiters.every((waiter) => waiter.count('released') > 0),
        () => 'release() never resolved.',
      );
      assert.ok(!existsSync(file), `every waiter held and released the lock, but ${describeLock(file)}.`);
    },
    TEST_MS,
  );

  test(
    'a live holder is never robbed, however long it holds',
    async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'shared.lock');
      const hold = await within(
        acquireLockFile(file, { retryMs: RETRY_MS }),
        DEADLINE_MS,
        'deadlocked: acquireLockFile() never resolved for a lock file that does not exist.',
      );
      assert.equal(
        lockHolder(file),
        process.pid,
        `while this process (pid ${process.pid}) holds the lock, the first line of the lock file should be its pid; ` +
          `${describeLock(file)}.`,
      );
      const waiter = await start('the waiter');
      waiter.send({ cmd: 'acquire', file, retryMs: RETRY_MS });
      await until(
        () => waiter.count('asking') > 0,
        () => 'the waiter never called acquireLockFile().',
      );
      const asked = Date.now();
      // Hold the lock for a long time: the waiter looks at it every 5 ms, hundreds of times.
      await untilWithin(
        () => waiter.count('acquired') > 0,
        () => '',
        HOLD_MS,
      ).catch(() => undefined);
      assert.equal(
        waiter.count('acquired'),
        0,
        `${waiter.label()} got the lock ${Date.now() - asked} ms after asking, while this process (pid ${process.pid}, ` +
          `alive) still held it: a live holder was robbed. Only a lock whose holder is dead may be taken over; how old ` +
          `the lock is says nothing about whether its holder still needs it.`,
      );
      await hold.release();
      await until(
        () => waiter.count('acquired') > 0,
        () =>
          `deadlocked: ${waiter.label()} still waits for the lock after this process released it; ${describeLock(file)}.`,
      );
      waiter.send({ cmd: 'release' });
      await until(
        () => waiter.count('released') > 0,
        () => 'release() never resolved.',
      );
    },
    TEST_MS,
  );

  test(
    'releasing a second time, after another process took the lock, leaves its lock alone',
    async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'shared.lock');
      const hold = await within(
        acquireLockFile(file, { retryMs: RETRY_MS }),
        DEADLINE_MS,
        'deadlocked: acquireLockFile() never resolved for a lock file that does not exist.',
      );
      const waiter = await start('the waiter');
      waiter.send({ cmd: 'acquire', file, retryMs: RETRY_MS });
      await until(
        () => waiter.count('asking') > 0,
        () => 'the waiter never called acquireLockFile().',
      );
      await hold.release();
      await until(
        () => waiter.count('acquired') > 0,
        () =>
          `deadlocked: ${waiter.label()} still waits for the lock after this process released it; ${describeLock(file)}.`,
      );
      await hold.release(); // a mistake in the caller: this process no longer holds the lock
      assert.equal(
        lockHolder(file),
        waiter.pid,
        `this process released the lock, ${waiter.label()} acquired it, then this process called release() a second ` +
          `time — and afterwards ${describeLock(file)} instead of naming ${waiter.label()}. Its lock was removed by a ` +
          `process that did not hold it. release() must remove the file only if it is still this hold's (check the ` +
          `pid and token in it), and only the first time it is called.`,
      );
      waiter.send({ cmd: 'release' });
      await until(
        () => waiter.count('released') > 0,
        () => 'release() never resolved.',
      );
      assert.ok(!existsSync(file), `the last holder released the lock, but ${describeLock(file)}.`);
    },
    TEST_MS,
  );
});
