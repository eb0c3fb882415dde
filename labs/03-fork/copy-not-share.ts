/**
 * Between a parent and a child_process.fork() child, nothing is shared: the child sees only what the parent
 * sends, every message is a copy (serialized by one process, rebuilt by the other), a change on one side
 * never shows on the other, and a SharedArrayBuffer cannot be sent at all. A worker thread, for contrast,
 * can share one.
 *
 *   npx tsx labs/03-fork/copy-not-share.ts
 */
import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';

// Module-level state: the parent changes it at run time, the child gets its own from loading the module.
const session = { user: 'nobody', loggedIn: false };

interface Cart {
  items: string[];
  total: number;
}

class Point {
  constructor(public x = 1) {}
  norm(): number {
    return Math.abs(this.x);
  }
}

/** In the child: answer each request. */
function serve(): void {
  process.on('message', (message: { kind: string; value: unknown }) => {
    if (message.kind === 'session') {
      process.send!({ mine: session, received: message.value });
    } else if (message.kind === 'cart') {
      const cart = message.value as Cart; // our own copy of the parent's cart
      cart.items.push('cake');
      cart.total += 4;
      process.send!(cart);
    } else {
      const box = message.value as { v?: unknown };
      if (!('v' in box)) return void process.send!('(dropped)'); // the key did not survive the trip
      const text = inspect(box.v, { breakLength: Infinity }); // the value as it arrived here
      const type = typeof box.v === 'object' && box.v !== null ? box.v.constructor.name : '';
      process.send!(type && !text.startsWith(type) ? `${type} ${text}` : text);
    }
  });
}

async function ask(child: ChildProcess, kind: string, value: unknown): Promise<unknown> {
  child.send({ kind, value } as Serializable);
  const [reply] = await once(child, 'message');
  return reply;
}

async function main(): Promise<void> {
  const child = fork(__filename, ['child']);

  console.log('1. the child sees what we send, nothing else');
  session.user = 'ada'; // changed at run time, in the parent only
  session.loggedIn = true;
  const seen = (await ask(child, 'session', { user: session.user })) as { mine: unknown; received: unknown };
  console.log(`   our session:                       ${inspect(session)}`);
  console.log(`   the child's module-level session:  ${inspect(seen.mine)}`);
  console.log(`   what the child received:           ${inspect(seen.received)}`);

  console.log("2. the child's changes stay in the child");
  const cart: Cart = { items: ['tea'], total: 3 };
  const reply = (await ask(child, 'cart', cart)) as Cart; // the child pushes 'cake', adds 4, sends its cart back
  console.log(`   the child added cake and sent back: ${inspect(reply)}`);
  console.log(
    `   our cart is unchanged:              ${inspect(cart)}; reply === cart: ${reply === (cart as unknown)}`,
  );
  child.disconnect();

  console.log('3. what arrives in the child, by serialization');
  const values: Record<string, unknown> = {
    'new Map([["a", 1]])': new Map([['a', 1]]),
    'new Set([1, 2])': new Set([1, 2]),
    'new Date(0)': new Date(0),
    '10n': 10n,
    'new Point() (a class)': new Point(),
    undefined: undefined,
    '() => 1': () => 1,
    'new SharedArrayBuffer(8)': new SharedArrayBuffer(8),
  };
  const kids = {
    json: fork(__filename, ['child']),
    advanced: fork(__filename, ['child'], { serialization: 'advanced' }),
  };
  console.log(`   ${'we send'.padEnd(26)} ${"'json' (the default)".padEnd(52)} 'advanced'`);
  for (const [label, value] of Object.entries(values)) {
    const cells: string[] = [];
    for (const kid of [kids.json, kids.advanced]) {
      try {
        cells.push(String(await ask(kid, 'value', { v: value })));
      } catch (error) {
        cells.push(`send throws: ${(error as Error).message}`);
      }
    }
    console.log(`   ${label.padEnd(26)} ${cells[0]!.padEnd(52)} ${cells[1]}`);
  }
  kids.json.disconnect();
  kids.advanced.disconnect();

  console.log('4. a SharedArrayBuffer given to a worker thread is shared');
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     workerData[0] = 7; parentPort.postMessage('written');`,
    { eval: true, workerData: shared },
  );
  await once(worker, 'message');
  console.log(`   the worker wrote 7 into the buffer; we read ${shared[0]}`);
  await worker.terminate();
}

if (process.argv[2] === 'child') serve();
else void main();
