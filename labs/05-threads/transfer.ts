/**
 * postMessage(value, transferList) moves the listed ArrayBuffers instead of copying them: the memory changes
 * owner, and the sender's buffer is detached (byteLength 0). This lab times a 64 MiB copy against a 64 MiB
 * move, shows what is left on the sender's side, and shows two traps: a view sends its whole buffer, and
 * Node's small Buffers share an 8 KiB pool that is never moved, only copied — with its neighbours' bytes.
 *
 *   npx tsx labs/05-threads/transfer.ts
 */
import { once } from 'node:events';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const MiB = 1024 * 1024;

interface Ack {
  type: string; // the constructor the worker received
  length: number; // the view's length, as received
  underlying: number; // byteLength of the ArrayBuffer behind it, as received
  secret: boolean; // whether the bytes 'password=hunter2' are anywhere in that whole ArrayBuffer
}

function worker(): void {
  parentPort!.on('message', (view: Uint8Array) => {
    const underlying = view.buffer.byteLength;
    const secret = underlying <= 8192 && Buffer.from(view.buffer).includes('password=hunter2');
    parentPort!.postMessage({ type: view.constructor.name, length: view.length, underlying, secret } satisfies Ack);
  });
}

async function send(w: Worker, view: Uint8Array, transfer: ArrayBuffer[] = []): Promise<{ ms: number; ack: Ack }> {
  const start = performance.now();
  w.postMessage(view, transfer);
  const [ack] = (await once(w, 'message')) as [Ack];
  return { ms: performance.now() - start, ack };
}

async function main(): Promise<void> {
  const w = new Worker(__filename, { execArgv: TS_HOOK });
  await send(w, new Uint8Array(16)); // warm up: the worker is running and listening

  console.log('1. 64 MiB, copied and moved (median of 5 each)');
  const copyTimes: number[] = [];
  const moveTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    copyTimes.push((await send(w, new Uint8Array(64 * MiB).fill(1))).ms);
    const data = new Uint8Array(64 * MiB).fill(1);
    moveTimes.push((await send(w, data, [data.buffer])).ms);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[2]!;
  console.log(`   copy (postMessage(data))                  ${median(copyTimes).toFixed(2).padStart(8)} ms`);
  console.log(`   move (postMessage(data, [data.buffer]))   ${median(moveTimes).toFixed(2).padStart(8)} ms`);

  console.log("2. the sender's side after a move");
  const data = new Uint8Array(64 * MiB).fill(1);
  await send(w, data, [data.buffer]);
  console.log(
    `   data.buffer.byteLength = ${data.buffer.byteLength}, data.length = ${data.length}, data[0] = ${data[0]}`,
  );
  data[0] = 9; // a write into a detached buffer is silently dropped
  console.log(`   after data[0] = 9: data[0] = ${data[0]}`);
  try {
    w.postMessage(data); // nothing left to copy
  } catch (error) {
    console.log(`   postMessage(data) again: ${(error as Error).name}: ${(error as Error).message}`);
  }

  console.log('3. a view sends its whole buffer');
  const big = new Uint8Array(64 * MiB);
  const { ms, ack } = await send(w, big.subarray(0, 16));
  console.log(
    `   posted big.subarray(0, 16): the worker got length ${ack.length}, on an ArrayBuffer of ${ack.underlying / MiB} MiB, in ${ms.toFixed(1)} ms`,
  );

  console.log("4. Node's pooled small Buffers");
  const secret = Buffer.from('password=hunter2'); // some other code's small Buffer
  const hello = Buffer.from('hello');
  console.log(
    `   hello.length = ${hello.length}, hello.buffer.byteLength = ${hello.buffer.byteLength}, shared with secret: ${hello.buffer === secret.buffer}`,
  );
  console.log(
    `   Buffer.allocUnsafe(16).buffer.byteLength = ${Buffer.allocUnsafe(16).buffer.byteLength}, Buffer.alloc(16).buffer.byteLength = ${Buffer.alloc(16).buffer.byteLength}`,
  );
  const moved = await send(w, hello, [hello.buffer]);
  console.log(
    `   postMessage(hello, [hello.buffer]) did not throw; the worker got a ${moved.ack.type} of length ${moved.ack.length}`,
  );
  console.log(
    `   on an ArrayBuffer of ${moved.ack.underlying} bytes, and 'password=hunter2' is in those bytes: ${moved.ack.secret}`,
  );
  console.log(
    `   and ours is still there: hello.buffer.byteLength = ${hello.buffer.byteLength}, hello = '${hello}' (copied, not moved)`,
  );
  const own = Buffer.alloc(5, 'hello'); // Buffer.alloc is never pooled
  const ownMoved = await send(w, own, [own.buffer]);
  console.log(
    `   Buffer.alloc(5) instead: the worker got ${ownMoved.ack.underlying} bytes; ours now has byteLength ${own.buffer.byteLength}`,
  );
  await w.terminate();
}

if (isMainThread) void main();
else worker();
