/**
 * A MessageChannel is a pair of connected ports. Transfer one port to each of two workers and they talk
 * directly: their messages never pass through the main thread's event loop. A port, like an ArrayBuffer,
 * can be moved but not copied, and once moved it is no longer ours.
 *
 *   npx tsx labs/05-threads/channel.ts
 */
import { once } from 'node:events';
import { isMainThread, MessageChannel, MessagePort, parentPort, threadId, Worker } from 'node:worker_threads';

const TS_HOOK = ['--require', require.resolve('tsx/cjs')];
const PINGS = 10_000;

function worker(): void {
  parentPort!.once('message', ({ port, role }: { port: MessagePort; role: 'pinger' | 'ponger' }) => {
    if (role === 'ponger') {
      port.on('message', (n: number) => port.postMessage(n + 1));
      parentPort!.postMessage(
        `thread ${threadId} (ponger) is listening on its port; its parentPort is a MessagePort too: ${parentPort instanceof MessagePort}`,
      );
      return;
    }
    let received = 0;
    const start = performance.now();
    port.on('message', (n: number) => {
      if (++received < PINGS) return port.postMessage(n + 1);
      const ms = performance.now() - start;
      parentPort!.postMessage(
        `thread ${threadId} (pinger): ${PINGS} round trips with the ponger in ${ms.toFixed(0)} ms, last value ${n}`,
      );
      port.close();
    });
    port.postMessage(0);
  });
}

async function main(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const pinger = new Worker(__filename, { execArgv: TS_HOOK });
  const ponger = new Worker(__filename, { execArgv: TS_HOOK });
  let seenByMain = 0;
  pinger.on('message', () => seenByMain++);
  ponger.on('message', () => seenByMain++);

  ponger.postMessage({ port: port2, role: 'ponger' }, [port2]); // moved to the ponger ...
  console.log(((await once(ponger, 'message')) as [string])[0]);
  try {
    pinger.postMessage({ port: port2, role: 'pinger' }, [port2]); // ... so it is not ours to give again
  } catch (error) {
    console.log(`giving port2 away a second time: ${(error as Error).name}: ${(error as Error).message}`);
  }
  try {
    pinger.postMessage({ port: port1, role: 'pinger' }); // a port cannot be copied, only moved
  } catch (error) {
    console.log(`posting port1 without a transfer list: ${(error as Error).name}: ${(error as Error).message}`);
  }
  pinger.postMessage({ port: port1, role: 'pinger' }, [port1]);
  console.log(((await once(pinger, 'message')) as [string])[0]);
  console.log(
    `messages the main thread received in all: ${seenByMain} (the ${PINGS * 2} pings and pongs went worker to worker)`,
  );
  await Promise.all([pinger.terminate(), ponger.terminate()]);
}

if (isMainThread) void main();
else worker();
