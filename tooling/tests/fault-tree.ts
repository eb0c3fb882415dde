/**
 * A throwaway workbook whose "exercises" each commit one fault that learner code commits by accident
 * (exit the process, hang, crash, leave processes behind, start too many), next to healthy ones. The
 * grader's own tests grade it and check that each fault is reported as what it is, that the healthy
 * exercises keep their points, and that nothing is left running.
 *
 * Every process a fault starts carries MARK (in its environment, and in its command line when it is
 * given an empty environment), so the tests can look for leftovers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Fault {
  name: string;
  /** The grading suite: a TypeScript test file. `@target/01-faults/<name>` is `target` below. */
  suite: string;
  /** The graded module, if the fault lives in "learner code" imported by the suite. */
  target?: string;
  timeLimitSeconds?: number;
}

/** Waits for ever, in a way that keeps the event loop alive (a bare never-settling promise would not). */
const FOREVER = 'await new Promise(() => setInterval(() => {}, 1000));';
/** A Node program that lives for a minute, marked so that leftovers can be found. */
const LINGER = `[ '-e', 'setTimeout(() => {}, 60000)', process.env.FAULT_MARK! ]`;

export const HANG_LIMIT_SECONDS = 3;
/** Crashes must be reported at once: their limit is long, and the whole run must end well before it. */
export const CRASH_LIMIT_SECONDS = 60;

export const FAULTS: Fault[] = [
  {
    name: 'healthy-a',
    suite: `test('adds', () => { if (1 + 1 !== 2) throw new Error('arithmetic'); });`,
  },
  {
    name: 'healthy-b',
    suite: `test('one', () => {}); test('two', async () => { await new Promise((r) => setTimeout(r, 50)); });`,
  },
  {
    name: 'exit-at-import',
    target: `process.exit(0); export const value = 1;`,
    suite: `import { value } from '@target/01-faults/exit-at-import';\ntest('imports', () => { if (value !== 1) throw new Error('x'); });`,
  },
  {
    name: 'exit-in-test',
    suite: `test('first', () => {}); test('exits', () => { process.exit(1); }); test('after', () => {});`,
  },
  {
    name: 'exit-from-timer',
    suite: `test('exits later', async () => { setTimeout(() => process.exit(0), 20); await new Promise((r) => setTimeout(r, 500)); });`,
  },
  {
    name: 'busy-loop',
    timeLimitSeconds: HANG_LIMIT_SECONDS,
    suite: `test('spins', () => { for (;;) {} });`,
  },
  {
    name: 'atomics-wait',
    timeLimitSeconds: HANG_LIMIT_SECONDS,
    target: `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); export const value = 1;`,
    suite: `import { value } from '@target/01-faults/atomics-wait';\ntest('imports', () => { if (value !== 1) throw new Error('x'); });`,
  },
  {
    name: 'never-settles',
    timeLimitSeconds: HANG_LIMIT_SECONDS,
    suite: `test('waits', async () => { ${FOREVER} });`,
  },
  {
    name: 'jest-timeout',
    suite: `test('waits past its own timeout', async () => { ${FOREVER} }, 300);`,
  },
  {
    name: 'child-never-exits',
    timeLimitSeconds: HANG_LIMIT_SECONDS,
    suite: `import { spawn } from 'node:child_process';
test('waits for a child', async () => {
  const child = spawn(process.execPath, ${LINGER}, { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
});`,
  },
  {
    name: 'timer-throws',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `test('throws from a timer', async () => { setTimeout(() => { throw new Error('boom from a timer'); }, 10); ${FOREVER} });`,
  },
  {
    name: 'unhandled-rejection',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `test('rejects', async () => { void Promise.reject(new Error('nobody handles this')); ${FOREVER} });`,
  },
  {
    name: 'worker-throws',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `import { Worker } from 'node:worker_threads';
test('worker without an error listener', async () => {
  new Worker("throw new Error('boom in a worker')", { eval: true });
  ${FOREVER}
});`,
  },
  {
    name: 'signals-itself',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `test('kills itself', async () => { process.kill(process.pid, 'SIGTERM'); ${FOREVER} });`,
  },
  {
    name: 'leaves-processes',
    suite: `import { spawn } from 'node:child_process';
test('starts processes and does not wait for them', async () => {
  // A detached child, with the environment it inherits.
  spawn(process.execPath, ${LINGER}, { detached: true, stdio: 'ignore' }).unref();
  // A detached child given an empty environment.
  spawn(process.execPath, ${LINGER}, { detached: true, stdio: 'ignore', env: {} }).unref();
  // A grandchild whose parent (a shell) exits at once, leaving it an orphan.
  spawn('sh', ['-c', \`"\${process.execPath}" -e "setTimeout(() => {}, 60000)" "\${process.env.FAULT_MARK}" & exit 0\`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
});`,
  },
  {
    name: 'process-bomb',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `import { spawn } from 'node:child_process';
test('starts a process per job, without limit', async () => {
  for (let job = 0; job < 2000; job += 1) {
    spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 2));
  }
});`,
  },
  {
    name: 'worker-bomb',
    timeLimitSeconds: CRASH_LIMIT_SECONDS,
    suite: `import { Worker } from 'node:worker_threads';
test('starts a worker per task, never ending them', async () => {
  for (let task = 0; task < 1000; task += 1) {
    new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((r) => setTimeout(r, 5));
  }
});`,
  },
  {
    name: 'noisy-failing',
    suite: `test('prints, then fails', () => {
  for (let line = 1; line <= 100; line += 1) console.log('NOISY-FAILING line ' + line);
  process.stdout.write('NOISY-FAILING raw write\\n');
  throw new Error('the answer was wrong');
});`,
  },
  {
    name: 'noisy-passing',
    suite: `test('prints, then passes', () => {
  for (let line = 1; line <= 100; line += 1) console.log('NOISY-PASSING line ' + line);
  process.stdout.write('NOISY-PASSING raw write\\n');
  process.stderr.write('NOISY-PASSING \\u001b[2J cleared screen\\n');
});`,
  },
];

export const POINTS = 10;

/** Writes the tree under `parent` (inside the repository, so that Jest's transform is found); returns its root. */
/** Not in FAULTS (it would hold every run for its whole limit): for the tests that kill Jest mid-run. */
export const LINGERS_AND_HANGS: Fault = {
  name: 'leaves-processes-then-hangs',
  timeLimitSeconds: CRASH_LIMIT_SECONDS,
  suite: `import { spawn } from 'node:child_process';
test('starts processes that escape their parent, then waits for ever', async () => {
  spawn(process.execPath, ${LINGER}, { detached: true, stdio: 'ignore' }).unref();
  spawn(process.execPath, ${LINGER}, { detached: true, stdio: 'ignore', env: {} }).unref();
  spawn('sh', ['-c', \`"\${process.execPath}" -e "setTimeout(() => {}, 60000)" "\${process.env.FAULT_MARK}" & exit 0\`], { stdio: 'ignore' });
  ${FOREVER}
});`,
};

export function buildFaultTree(parent: string, faults: Fault[] = FAULTS): string {
  mkdirSync(parent, { recursive: true });
  const root = mkdtempSync(path.join(parent, 'faults-'));
  const manifest = {
    title: 'Fault tree',
    chapters: [
      {
        id: '01-faults',
        title: 'Faults',
        exercises: faults.map((fault) => ({
          name: fault.name,
          title: fault.name,
          points: POINTS,
          ...(fault.timeLimitSeconds ? { timeLimitSeconds: fault.timeLimitSeconds } : {}),
          hints: ['none'],
        })),
      },
    ],
  };
  writeFileSync(path.join(root, 'workbook.json'), JSON.stringify(manifest, null, 2));
  for (const fault of faults) {
    const suiteDir = path.join(root, 'tests', '01-faults', fault.name);
    const targetDir = path.join(root, 'solutions', '01-faults', fault.name);
    mkdirSync(suiteDir, { recursive: true });
    mkdirSync(targetDir, { recursive: true });
    writeFileSync(path.join(suiteDir, `${fault.name}.test.ts`), `${fault.suite}\n`);
    writeFileSync(path.join(targetDir, 'index.ts'), `${fault.target ?? 'export {};'}\n`);
  }
  return root;
}

export function removeFaultTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
