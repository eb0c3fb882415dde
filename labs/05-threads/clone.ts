/**
 * workerData and postMessage copy their value with the structured clone algorithm: the receiver gets a new
 * object graph, built from the sender's at the moment of the call. This lab sends values of many kinds to a
 * worker and prints what arrived, then shows that the copy is taken at the call and that changes on either
 * side stay on that side.
 *
 *   npx tsx labs/05-threads/clone.ts
 */
import { once } from 'node:events';
import { inspect } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];

class Point {
  constructor(public x = 1) {}
  norm(): number {
    return Math.abs(this.x);
  }
}

/** How a value looks on this side: its constructor's name and its contents. */
function describe(value: unknown): string {
  if (value instanceof Error)
    return `${value.constructor.name} '${value.message}', with its stack: ${Boolean(value.stack)}`;
  const text = inspect(value, { breakLength: Infinity, depth: 3 });
  const type = typeof value === 'object' && value !== null ? (value.constructor?.name ?? 'null-prototype') : '';
  return type && !text.startsWith(type) ? `${type} ${text}` : text;
}

function worker(): void {
  const port = parentPort!;
  port.on('message', (message: { kind: 'describe'; value: unknown } | { kind: 'change'; cart: string[] }) => {
    if (message.kind === 'describe') {
      port.postMessage(describe(message.value));
    } else {
      message.cart.push('cake'); // changes the worker's copy
      port.postMessage(message.cart);
    }
  });
  port.postMessage(`workerData arrived as: ${describe(workerData)}`);
}

async function main(): Promise<void> {
  const config = new Map([['retries', 3]]);
  const w = new Worker(__filename, { execArgv: TS_HOOK, workerData: { config, started: new Date(0) } });
  console.log(((await once(w, 'message')) as [string])[0]);

  const cyclic: { name: string; self?: unknown } = { name: 'loop' };
  cyclic.self = cyclic;
  const withGetter = {
    get now(): string {
      return 'computed by the sender';
    },
  };
  const values: [string, unknown][] = [
    ['{ a: { b: [1, 2] } }', { a: { b: [1, 2] } }],
    ['new Map([["k", 1]])', new Map([['k', 1]])],
    ['new Set([1, 2])', new Set([1, 2])],
    ['new Date(0)', new Date(0)],
    ['2n ** 70n', 2n ** 70n],
    ['/ab+c/gi', /ab+c/gi],
    ['new Uint8Array([1, 2, 3])', new Uint8Array([1, 2, 3])],
    ["Buffer.from('hi')", Buffer.from('hi')],
    ["new RangeError('boom')", new RangeError('boom')],
    ['{ v: undefined }', { v: undefined }],
    ['a cycle: o.self = o', cyclic],
    ['{ get now() {...} }', withGetter],
    ['new Point(1) (a class)', new Point(1)],
    ['() => 1', () => 1],
    ["Symbol('s')", Symbol('s')],
    ['Promise.resolve(1)', Promise.resolve(1)],
  ];
  console.log(`${'we post'.padEnd(28)}what the worker received`);
  for (const [label, value] of values) {
    let arrived: string;
    try {
      w.postMessage({ kind: 'describe', value });
      arrived = ((await once(w, 'message')) as [string])[0];
    } catch (error) {
      const { name, message } = error as Error;
      arrived = `postMessage throws ${name}: ${message}`;
    }
    console.log(`${label.padEnd(28)}${arrived}`);
  }

  const cart = ['tea'];
  w.postMessage({ kind: 'change', cart }); // the copy is made here, during this call ...
  cart.push('milk'); // ... so the worker never sees milk
  const [theirs] = (await once(w, 'message')) as [string[]];
  console.log(`we posted ['tea'], then pushed 'milk'; the worker pushed 'cake' into its copy:`);
  console.log(`  the worker's cart: ${inspect(theirs)}   ours: ${inspect(cart)}`);
  await w.terminate();
}

if (isMainThread) void main();
else worker();
