/**
 * stream.pipeline() connects a source to a destination with backpressure and error handling built in.
 * The source is an async generator of numbered NDJSON records; the destination is a slow consumer
 * process's stdin. Three runs:
 *
 *   1. pipeline, consumer reads everything: the generator runs only a little ahead of the consumer;
 *   2. pipeline, consumer exits after 512 KiB: pipeline rejects, and the generator is closed (its finally);
 *   3. the same with source.pipe(destination): the error is not passed on, and the source is left open;
 *   4. pipeline, and the source throws: the consumer's stdin is closed, which the consumer reads as a
 *      normal end of its input.
 *
 *   npx tsx labs/04-ipc/pipeline.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const RECORDS = 20_000;
const record = (seq: number): string => JSON.stringify({ seq, text: 'record '.repeat(7) }) + '\n';
let TOTAL = 0; // about 1.4 MiB of NDJSON
for (let seq = 0; seq < RECORDS; seq++) TOTAL += record(seq).length;

/** A slow consumer: reads stdin in small bites; with a limit it exits after that many bytes. */
function startConsumer(limit: number) {
  const code = `
    const fs = require('fs');
    let total = 0;
    process.stdin.on('data', (chunk) => {
      total += chunk.length;
      fs.writeSync(1, total + '\\n');
      if (${limit} > 0 && total >= ${limit}) process.exit(0);
      process.stdin.pause();
      setTimeout(() => process.stdin.resume(), 2);
    });
    process.stdin.on('end', () => fs.writeSync(1, 'end ' + total + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const progress = { consumed: 0, endOfInput: false };
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().trim().split('\n')) {
      if (line.startsWith('end')) progress.endOfInput = true;
      else progress.consumed = Number(line);
    }
  });
  return { child, progress };
}

/** The source: counts what it produced, notes how far ahead of the consumer it got, and when it closed. */
function makeSource(progress: { consumed: number }, failAt = Infinity) {
  const state = { produced: 0, maxAhead: 0, closed: false };
  async function* records(): AsyncGenerator<string> {
    try {
      for (let seq = 0; seq < RECORDS; seq++) {
        if (seq === failAt) throw new Error(`the source failed at record ${seq}`);
        const line = record(seq);
        state.produced += line.length;
        state.maxAhead = Math.max(state.maxAhead, state.produced - progress.consumed);
        yield line;
      }
    } finally {
      state.closed = true; // runs when the generator ends, or when pipeline destroys it
    }
  }
  return { state, source: Readable.from(records()) };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  console.log('1. pipeline(source, consumer.stdin), the consumer reads everything');
  {
    const { child, progress } = startConsumer(0);
    const { state, source } = makeSource(progress);
    await pipeline(source, child.stdin!);
    await once(child, 'close');
    console.log(`   produced ${kib(state.produced)}, consumed ${kib(progress.consumed)}`);
    console.log(`   the generator was at most ${kib(state.maxAhead)} ahead of the consumer; closed: ${state.closed}`);
  }

  console.log('2. pipeline, and the consumer exits after 512 KiB');
  {
    const { child, progress } = startConsumer(512 * 1024);
    const { state, source } = makeSource(progress);
    try {
      await pipeline(source, child.stdin!);
      console.log('   pipeline resolved');
    } catch (error) {
      console.log(`   pipeline rejected: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    await once(child, 'close');
    console.log(`   produced ${kib(state.produced)} of ${kib(TOTAL)}; generator closed: ${state.closed}`);
  }

  console.log('3. source.pipe(consumer.stdin), and the consumer exits after 512 KiB');
  {
    const { child, progress } = startConsumer(512 * 1024);
    const { state, source } = makeSource(progress);
    const errors: string[] = [];
    child.stdin!.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    source.pipe(child.stdin!);
    await once(child, 'close');
    await sleep(200);
    console.log(`   errors on the destination: ${errors.join(', ') || 'none'}; the source heard nothing`);
    console.log(
      `   produced ${kib(state.produced)}; generator closed: ${state.closed}; source destroyed: ${source.destroyed}`,
    );
    source.destroy(); // clean up by hand: .pipe() left it paused, holding its buffer, for ever
  }

  console.log('4. pipeline, and the source throws at record 5000');
  {
    const { child, progress } = startConsumer(0);
    const { source } = makeSource(progress, 5000);
    try {
      await pipeline(source, child.stdin!);
    } catch (error) {
      console.log(`   pipeline rejected: ${(error as Error).message}`);
    }
    const [code] = (await once(child, 'close')) as [number];
    console.log(
      `   the consumer read ${kib(progress.consumed)}, saw a normal end of input: ${progress.endOfInput},` +
        ` and exited with code ${code}`,
    );
  }
}

void main();
