/**
 * The IPC channel of child_process.fork() has two serializations. 'json' (the default) sends
 * JSON.stringify(message); 'advanced' sends the structured clone of the HTML standard (v8.serialize).
 * We send the same values both ways to a child that describes, with util.inspect, what it received.
 *
 *   npx tsx labs/04-ipc/serialization.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import util from 'node:util';

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

function values(): [string, unknown][] {
  const circular: { name: string; self?: unknown } = { name: 'loop' };
  circular.self = circular;
  return [
    ["new Map([['a', 1]])", new Map([['a', 1]])],
    ['new Set([1, 2])', new Set([1, 2])],
    ['new Date(0)', new Date(0)],
    ['10n', 10n],
    ['{ a: undefined, b: 1 }', { a: undefined, b: 1 }],
    ['[1, undefined, 3]', [1, undefined, 3]],
    ['[NaN, Infinity]', [NaN, Infinity]],
    ['new Uint8Array([1,2,3])', new Uint8Array([1, 2, 3])],
    ["Buffer.from('hi')", Buffer.from('hi')],
    ["new RangeError('bad')", new RangeError('bad')],
    ['new Point(3, 4)', new Point(3, 4)],
    ['a circular object', circular],
    ['{ f: () => 1 }', { f: () => 1 }],
    ['new SharedArrayBuffer(8)', new SharedArrayBuffer(8)],
  ];
}

/** The value's class (or type) and its contents; an error as name, message and whether a stack came along. */
function describe(value: unknown): string {
  if (value instanceof Error)
    return `${value.constructor.name}: ${value.message} (stack: ${value.stack ? 'yes' : 'no'})`;
  const kind = value === null || typeof value !== 'object' ? typeof value : (value.constructor?.name ?? 'null proto');
  const text = util.inspect(value, { breakLength: Infinity, depth: 2 });
  return text.startsWith(kind) ? text : `${kind} ${text}`;
}

/** Sends one value and returns what the child says it received, or why it could not be sent. */
async function roundTrip(child: ChildProcess, value: unknown): Promise<string> {
  try {
    child.send({ value });
  } catch (error) {
    return `send() throws: ${(error as Error).message.split('\n')[0]}`;
  }
  const [reply] = (await once(child, 'message')) as [string];
  return reply;
}

async function main(): Promise<void> {
  const json = fork(__filename, ['child'], { serialization: 'json' });
  const advanced = fork(__filename, ['child'], { serialization: 'advanced' });
  console.log(`${'we send'.padEnd(25)}${"'json' (the default)".padEnd(53)}'advanced'`);
  for (const [label, value] of values()) {
    const viaJson = await roundTrip(json, value);
    const viaAdvanced = await roundTrip(advanced, value);
    console.log(`${label.padEnd(25)}${viaJson.padEnd(53)}${viaAdvanced}`);
  }
  json.disconnect(); // the child's only handle is the channel: it exits when the channel closes
  advanced.disconnect();
}

if (process.argv[2] === 'child') {
  // The child: describe each message as it arrived, in this process.
  process.on('message', (message: { value: unknown }) => {
    process.send!(describe(message.value));
  });
} else {
  void main();
}
