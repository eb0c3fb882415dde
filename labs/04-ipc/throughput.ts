/**
 * How many messages per second, and how many MB/s, one process can send another: through the IPC channel
 * (both serializations), through a pipe with newline-delimited JSON or length-prefixed binary frames, and
 * through a Unix domain socket with binary frames. For each size the sender writes a batch of messages as
 * fast as backpressure lets it, then an end marker; the receiver decodes every message and answers the
 * marker with its count. The clock stops at that answer. Child start-up is not counted; a warm-up batch
 * runs first, then three measured batches, of which the fastest counts (other programs on the machine can
 * only slow a batch down). Numbers only: nothing here is asserted.
 *
 *   npx tsx labs/04-ipc/throughput.ts
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LineDecoder, lengthPrefixed } from './frames';

type Mode = 'ipc-json' | 'ipc-advanced' | 'pipe-ndjson' | 'pipe-binary' | 'socket-binary';
const MODES: Mode[] = ['ipc-json', 'ipc-advanced', 'pipe-ndjson', 'pipe-binary', 'socket-binary'];
const SIZES = [
  { size: 64, count: 5_000, label: '64 B' },
  { size: 4096, count: 1_000, label: '4 KiB' },
  { size: 1024 * 1024, count: 10, label: '1 MiB' },
];

// ---- the receiver (a child process) ----------------------------------------------------------------
/**
 * Just enough length-prefixed decoding for the frames this lab's own sender writes: a 4-byte big-endian
 * length, then that many bytes. This is NOT the frame-decoder exercise, and not a decoder to copy: it
 * trusts the sender completely — no size limit (a bad length makes it wait and keep bytes forever), no
 * skipping of oversized frames, no JSON or schema check, no report of a stream that ends mid-frame.
 */
class TrustedBinaryFrames {
  private parts: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Buffer[] {
    this.parts.push(chunk);
    this.size += chunk.length;
    const bodies: Buffer[] = [];
    while (this.size >= 4) {
      if (this.parts[0].length < 4) this.parts = [Buffer.concat(this.parts)];
      const length = this.parts[0].readUInt32BE(0);
      if (this.size < 4 + length) break; // copy nothing until the whole frame is here
      const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      bodies.push(all.subarray(4, 4 + length));
      const rest = all.subarray(4 + length);
      this.parts = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
    }
    return bodies;
  }
}

function receiver(mode: Mode): void {
  let count = 0;
  const answer = (reply: (text: string) => void): void => {
    reply(String(count));
    count = 0;
  };
  if (mode === 'ipc-json' || mode === 'ipc-advanced') {
    process.on('message', (message: { seq: number; data: string | Buffer }) => {
      if (message.seq < 0) answer((text) => process.send!(text));
      else if (message.data.length >= 0) count++;
    });
    return;
  }
  const consume = (input: Readable, output: Writable): void => {
    if (mode === 'pipe-ndjson') {
      const decoder = new LineDecoder();
      input.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          if (!frame.ok) continue;
          const message = JSON.parse(frame.body.toString('utf8')) as { seq: number; data: string };
          if (message.seq < 0) answer((text) => output.write(text + '\n'));
          else if (message.data.length >= 0) count++;
        }
      });
    } else {
      const decoder = new TrustedBinaryFrames();
      input.on('data', (chunk: Buffer) => {
        for (const body of decoder.push(chunk)) {
          if (body.length === 0) answer((text) => output.write(text + '\n'));
          else count++;
        }
      });
    }
  };
  if (mode === 'socket-binary') {
    const server = net.createServer((socket) => consume(socket, socket));
    server.listen(process.argv[4], () => process.stdout.write('ready\n'));
    process.stdin.on('end', () => server.close()).resume(); // our parent closes stdin when it is done
    server.on('connection', (socket) => socket.on('close', () => server.close()));
  } else consume(process.stdin, process.stdout);
}

// ---- the sender (this process) ---------------------------------------------------------------------
interface Channel {
  send(seq: number, size: number): Promise<void> | void; // a promise when we must wait for room
  end(): Promise<number>; // sends the end marker, resolves with the receiver's count
  close(): Promise<void>;
}

function lineReader(input: Readable): () => Promise<string> {
  const decoder = new LineDecoder();
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  input.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) if (frame.ok) lines.push(frame.body.toString());
    wake?.();
  });
  return async () => {
    while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return lines.shift()!;
  };
}

const payloads = new Map<number, { text: string; bytes: Buffer }>();
const payload = (size: number) => {
  if (!payloads.has(size)) payloads.set(size, { text: 'x'.repeat(size), bytes: Buffer.alloc(size, 'x') });
  return payloads.get(size)!;
};

async function openChannel(mode: Mode, socketPath: string): Promise<Channel> {
  const args = [__filename, 'receiver', mode, socketPath];
  if (mode === 'ipc-json' || mode === 'ipc-advanced') {
    const child = fork(__filename, args.slice(1), { serialization: mode === 'ipc-json' ? 'json' : 'advanced' });
    await once(child, 'spawn');
    return {
      send(seq, size) {
        const data = mode === 'ipc-json' ? payload(size).text : payload(size).bytes;
        let sent!: () => void;
        const done = new Promise<void>((resolve) => (sent = resolve));
        // send() returns false when its backlog is long: then wait until this message is written.
        return child.send({ seq, data }, () => sent()) ? undefined : done;
      },
      async end() {
        child.send({ seq: -1, data: '' });
        const [count] = (await once(child, 'message')) as [string];
        return Number(count);
      },
      async close() {
        const exited = once(child, 'exit'); // not 'close': after our own disconnect() it never comes
        child.disconnect();
        await exited;
      },
    };
  }
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'pipe' });
  let output: Writable = child.stdin!;
  let readLine = lineReader(child.stdout!);
  if (mode === 'socket-binary') {
    await readLine(); // 'ready'
    const socket = net.connect(socketPath);
    await once(socket, 'connect');
    output = socket;
    readLine = lineReader(socket);
  }
  const write = (bytes: Buffer): Promise<void> | void => {
    if (!output.write(bytes)) return once(output, 'drain').then(() => undefined);
  };
  return {
    send(seq, size) {
      if (mode === 'pipe-ndjson') return write(Buffer.from(JSON.stringify({ seq, data: payload(size).text }) + '\n'));
      return write(lengthPrefixed(payload(size).bytes));
    },
    async end() {
      await write(mode === 'pipe-ndjson' ? Buffer.from('{"seq":-1,"data":""}\n') : lengthPrefixed(Buffer.alloc(0)));
      return Number(await readLine());
    },
    async close() {
      output.end();
      child.stdin!.end();
      await once(child, 'close');
    },
  };
}

async function batch(channel: Channel, size: number, count: number): Promise<number> {
  const start = performance.now();
  for (let seq = 0; seq < count; seq++) {
    const wait = channel.send(seq, size);
    if (wait) await wait;
  }
  const received = await channel.end();
  if (received !== count) throw new Error(`sent ${count}, the receiver counted ${received}`);
  return (performance.now() - start) / 1000;
}

const fmt = (perSecond: number, size: number): string => {
  const rate =
    perSecond >= 1000 ? `${(perSecond / 1000).toFixed(perSecond >= 100_000 ? 0 : 1)}k` : perSecond.toFixed(0);
  const mb = (perSecond * size) / 1e6;
  return (size >= 4096 ? `${rate}/s (${mb.toFixed(0)} MB/s)` : `${rate}/s`).padStart(20);
};

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-throughput-'));
  try {
    console.log(`messages per second (MB/s)   ${SIZES.map((s) => s.label.padStart(20)).join('')}`);
    for (const mode of MODES) {
      const channel = await openChannel(mode, path.join(dir, `${mode}.sock`));
      const cells: string[] = [];
      for (const { size, count } of SIZES) {
        await batch(channel, size, Math.ceil(count / 5)); // warm-up
        let seconds = Infinity;
        for (let round = 0; round < 3; round++) seconds = Math.min(seconds, await batch(channel, size, count));
        cells.push(fmt(count / seconds, size));
      }
      await channel.close();
      console.log(`${mode.padEnd(29)}${cells.join('')}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'receiver') receiver(process.argv[3] as Mode);
else void main();
