/**
 * The lost update, step by step, with two real worker threads. `counter = counter + 1` is a read, an add and
 * a write. Here each thread does those steps one at a time, in an order this lab chooses (a shared "turn"
 * number says whose step is next), so the same interleaving happens on every run. The racy code in the
 * steps is ordinary: a plain read of the shared counter into a local variable, and a plain write back.
 *
 *   npx tsx labs/07-races-and-atomics/lost-update.ts
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const COUNTER = 0;
const TURN = 1; // the number of the step that may run next

type Step = { who: 'A' | 'B'; does: 'read' | 'write' | 'increment 1,000 times' };
interface Job {
  shared: SharedArrayBuffer;
  me: 'A' | 'B';
  script: Step[];
}

const SCHEDULES: { title: string; start: number; script: Step[] }[] = [
  {
    title: 'A and B each add 1, one after the other',
    start: 41,
    script: [
      { who: 'A', does: 'read' },
      { who: 'A', does: 'write' },
      { who: 'B', does: 'read' },
      { who: 'B', does: 'write' },
    ],
  },
  {
    title: 'A and B each add 1, both read before either writes',
    start: 41,
    script: [
      { who: 'A', does: 'read' },
      { who: 'B', does: 'read' },
      { who: 'A', does: 'write' },
      { who: 'B', does: 'write' },
    ],
  },
  {
    title: 'A reads, B adds 1 a thousand times, A writes',
    start: 41,
    script: [
      { who: 'A', does: 'read' },
      { who: 'B', does: 'increment 1,000 times' },
      { who: 'A', does: 'write' },
    ],
  },
];

/** Worker: runs its own steps of the script, each when its turn comes; reports one line per step. */
function worker({ shared, me, script }: Job): void {
  const view = new Int32Array(shared);
  let register = 0; // the value this thread read: a local variable, like a CPU register
  for (const [step, { who, does }] of script.entries()) {
    if (who !== me) continue;
    for (let turn; (turn = Atomics.load(view, TURN)) !== step;) Atomics.wait(view, TURN, turn, 1000);
    let text: string;
    if (does === 'read') {
      register = view[COUNTER]!; // plain read
      text = `read counter -> ${register}`;
    } else if (does === 'write') {
      view[COUNTER] = register + 1; // plain write of what we computed from our read
      text = `write ${register} + 1 = ${register + 1}`;
    } else {
      for (let i = 0; i < 1000; i++) view[COUNTER] = view[COUNTER]! + 1;
      text = `1,000 x (read, add 1, write)`;
    }
    parentPort!.postMessage({ step, text, counter: view[COUNTER] });
    Atomics.store(view, TURN, step + 1); // the next step's thread may go
    Atomics.notify(view, TURN);
  }
}

async function run(title: string, start: number, script: Step[]): Promise<void> {
  const shared = new SharedArrayBuffer(8);
  const view = new Int32Array(shared);
  view[COUNTER] = start;
  const lines: { step: number; who: string; text: string; counter: number }[] = [];
  const threads = (['A', 'B'] as const).map((me) => {
    const w = new Worker(__filename, { execArgv: TS_HOOK, workerData: { shared, me, script } satisfies Job });
    w.on('message', (line: { step: number; text: string; counter: number }) => lines.push({ ...line, who: me }));
    return w;
  });
  await Promise.all(threads.map((w) => once(w, 'exit'))); // each exits once its steps are done
  lines.sort((a, b) => a.step - b.step);
  console.log(title);
  console.log(`  step  ${'thread A'.padEnd(30)}${'thread B'.padEnd(30)}counter`);
  console.log(`        ${''.padEnd(60)}${start}`);
  for (const { step, who, text, counter } of lines) {
    const cells = who === 'A' ? text.padEnd(30) + ''.padEnd(30) : ''.padEnd(30) + text.padEnd(30);
    console.log(`  ${String(step + 1).padEnd(4)}  ${cells}${counter}`);
  }
  const increments = script.reduce((n, s) => n + (s.does === 'write' ? 1 : s.does === 'read' ? 0 : 1000), 0);
  const lost = start + increments - view[COUNTER]!;
  console.log(
    `  ${increments.toLocaleString('en')} increments: ${start} -> ${view[COUNTER]}, ` +
      (lost === 0 ? 'nothing lost' : `${lost.toLocaleString('en')} lost`) +
      '\n',
  );
}

async function main(): Promise<void> {
  for (const { title, start, script } of SCHEDULES) await run(title, start, script);
}

if (isMainThread) void main();
else worker(workerData as Job);
