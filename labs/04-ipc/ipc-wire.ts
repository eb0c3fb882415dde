/**
 * What the IPC channel of child_process.fork() is underneath: a Unix socket pair, on which Node writes
 * framed messages — newline-delimited JSON for serialization 'json', a 4-byte length and v8.serialize()
 * bytes for 'advanced'. The channel's descriptor number reaches the child in NODE_CHANNEL_FD (a Node
 * internal); below we give a plain child one of our own sockets under that name and read the raw bytes.
 *
 *   npx tsx labs/04-ipc/ipc-wire.ts
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import util from 'node:util';
import v8 from 'node:v8';

// The plain child: send one message, print the first one it receives, then let the channel go.
const childCode = `
  process.send({ hello: 'parent', when: new Date(0), list: [1, 2] });
  process.on('message', (message) => {
    console.log('   the child received: ' + JSON.stringify(message));
    process.disconnect();
  });`;

async function rawBytes(mode: 'json' | 'advanced'): Promise<void> {
  const child = spawn(process.execPath, ['-e', childCode], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'], // fd 3: a socket pair to us
    env: { ...process.env, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: mode },
  });
  const channel = child.stdio[3] as Readable & Writable;
  const [bytes] = (await once(channel, 'data')) as [Buffer];
  console.log(`serialization '${mode}': the child's process.send() wrote ${bytes.length} bytes`);
  const hex = (b: Buffer): string => b.toString('hex').replace(/(..)/g, '$1 ').trim();
  if (mode === 'json') console.log(`   as text: ${JSON.stringify(bytes.toString('utf8'))}`);
  else {
    console.log(`   first 4 bytes: ${hex(bytes.subarray(0, 4))} = ${bytes.readUInt32BE(0)}, the length of the rest:`);
    console.log(`   ${hex(bytes.subarray(4))}`);
    console.log(
      `   v8.deserialize() turns them into ${util.inspect(v8.deserialize(bytes.subarray(4)), { breakLength: Infinity })}`,
    );
  }
  if (mode === 'json') {
    console.log(`   we write one line back by hand: {"from":"raw bytes"}\\n`);
    channel.write('{"from":"raw bytes"}\n');
  } else {
    const body = v8.serialize({ from: 'raw bytes' });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    console.log(`   we write one frame back by hand: length ${header.toString('hex')}, then v8.serialize() bytes`);
    channel.write(Buffer.concat([header, body]));
  }
  await once(child, 'close');
}

async function main(): Promise<void> {
  const child = fork(__filename, ['child']);
  const [where] = (await once(child, 'message')) as [string];
  console.log(`a forked child's IPC channel: ${where}`);
  await once(child, 'exit');
  await rawBytes('json');
  await rawBytes('advanced');
}

if (process.argv[2] === 'child') {
  const fd = (process.channel as unknown as { fd: number }).fd; // Node read NODE_CHANNEL_FD and removed it
  let target = '(no /proc here)';
  try {
    target = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // not Linux
  }
  process.send!(`fd ${fd}, which is ${target}`, () => process.disconnect());
} else {
  void main();
}
