/**
 * Every message that crosses a process boundary is input you did not write. The same five
 * newline-delimited requests go to two servers, each in its own process, reading stdin:
 *
 *   naive:   JSON.parse and use the fields as if they had the right types;
 *   checked: JSON.parse in a try, a zod schema, and a report (not a crash) for each bad message.
 *
 *   npx tsx labs/04-ipc/validate.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { z } from 'zod';
import { LineDecoder } from './frames';

const requests = [
  '{"type":"add","id":1,"a":2,"b":3}',
  '{"type":"add","id":2,"a":"2","b":3}', // a string where a number belongs
  '{"type":"mul","id":3,"a":2,"b":3}', // a type this server does not know
  '{"type":"add","id":4,"a":2,', // cut off: not JSON at all
  '{"type":"echo","id":5,"text":"still here"}',
];

// ---- the naive server -------------------------------------------------------------------------------
function naiveServer(): void {
  process.stdin.setEncoding('utf8');
  let kept = '';
  process.stdin.on('data', (chunk: string) => {
    const lines = (kept + chunk).split('\n');
    kept = lines.pop()!;
    for (const line of lines) {
      const request = JSON.parse(line); // throws on line 4, and nobody catches it
      if (request.type === 'add') console.log(JSON.stringify({ id: request.id, sum: request.a + request.b }));
      if (request.type === 'echo') console.log(JSON.stringify({ id: request.id, text: request.text }));
    }
  });
}

// ---- the checked server -----------------------------------------------------------------------------
const Request = z.discriminatedUnion('type', [
  z.object({ type: z.literal('add'), id: z.int().positive(), a: z.number(), b: z.number() }),
  z.object({ type: z.literal('echo'), id: z.int().positive(), text: z.string().max(1000) }),
]);
type Request = z.infer<typeof Request>;
const HasId = z.object({ id: z.int().positive() }); // enough to tell the sender which request failed

function answer(request: Request): object {
  switch (request.type) {
    case 'add':
      return { id: request.id, sum: request.a + request.b };
    case 'echo':
      return { id: request.id, text: request.text };
  }
}

function handle(line: string): void {
  const reply = (message: object): void => void process.stdout.write(JSON.stringify(message) + '\n');
  const report = (text: string): void => void process.stderr.write(text + '\n');
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    report(`dropped a line that is not JSON: ${JSON.stringify(line.slice(0, 60))}`);
    return; // no id to answer: the sender's call will time out
  }
  const parsed = Request.safeParse(raw);
  if (!parsed.success) {
    report(`dropped an invalid request ${JSON.stringify(raw)}:\n${z.prettifyError(parsed.error)}`);
    const withId = HasId.safeParse(raw);
    if (withId.success) reply({ id: withId.data.id, error: 'invalid request' }); // fail that call, now
    return;
  }
  reply(answer(parsed.data));
}

function checkedServer(): void {
  const decoder = new LineDecoder(64 * 1024);
  process.stdin.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.ok) handle(frame.body.toString('utf8'));
      else process.stderr.write(`dropped a frame: ${frame.error}\n`);
    }
  });
}

// ---- the lab ----------------------------------------------------------------------------------------
async function send(role: 'naive' | 'checked'): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, role], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  child.stdin.end(requests.join('\n') + '\n');
  const [code] = (await once(child, 'close')) as [number];
  console.log(`${role} server:`);
  for (const line of out.trim().split('\n').filter(Boolean)) console.log(`   answered  ${line}`);
  const errors =
    role === 'naive'
      ? err
          .split('\n')
          .filter((l) => /Error/.test(l))
          .slice(0, 1)
      : err.trim().split('\n');
  for (const line of errors) console.log(`   ${role === 'naive' ? 'stderr   ' : 'reported '} ${line}`);
  console.log(`   exit code ${code}`);
}

async function main(): Promise<void> {
  console.log('requests sent to both:');
  for (const line of requests) console.log(`   ${line}`);
  await send('naive');
  await send('checked');
}

if (process.argv[2] === 'naive') naiveServer();
else if (process.argv[2] === 'checked') checkedServer();
else void main();
