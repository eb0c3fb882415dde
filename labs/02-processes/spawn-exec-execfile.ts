/**
 * spawn, execFile and exec: streaming vs buffering, no shell vs a shell, and why a shell turns data
 * into code (command injection).
 *
 *   npx tsx labs/02-processes/spawn-exec-execfile.ts
 */
import { exec, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const execAsync = promisify(exec);
const node = process.execPath;
// A child that prints three lines, 200 ms apart.
const ticker =
  "let n = 0; const t = setInterval(() => { console.log('tick ' + ++n); if (n === 3) clearInterval(t); }, 200)";

async function main(): Promise<void> {
  let start = performance.now();
  const ms = (): string => `${Math.round(performance.now() - start)} ms`.padStart(7);

  console.log('1. spawn: a stream, each chunk as soon as the child writes it');
  const child = spawn(node, ['-e', ticker]);
  child.stdout.on('data', (chunk: Buffer) => console.log(`   ${ms()}  got ${JSON.stringify(chunk.toString())}`));
  await new Promise((resolve) => child.on('close', resolve));

  console.log('2. execFile: one string when the child has ended (no shell)');
  start = performance.now();
  const { stdout } = await execFileAsync(node, ['-e', ticker]);
  console.log(`   ${ms()}  got ${JSON.stringify(stdout)}`);

  console.log('   execFile buffers at most maxBuffer bytes (1 MiB by default), then kills the child:');
  const big = execFile(node, ['-e', "process.stdout.write('x'.repeat(2 * 1024 * 1024))"], (error, out) => {
    console.log(`   ${(error as NodeJS.ErrnoException).code}; kept ${out.length} bytes`);
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    big.on('exit', (...ended) => resolve(ended)),
  );
  console.log(`   the child: code=${code} signal=${signal}`);

  console.log('3. exec: a command line run by /bin/sh, so pipes, globs and $VARS work');
  const { stdout: shell } = await execAsync('echo "$HOME" | tr a-z A-Z');
  console.log(`   ${JSON.stringify(shell)}`);

  console.log('4. the same untrusted input, given to exec and to execFile');
  const name = 'world; echo INJECTED: this ran as a second command';
  const viaShell = await execAsync(`echo Hello ${name}`);
  console.log(`   exec:     ${JSON.stringify(viaShell.stdout)}`);
  const direct = await execFileAsync('echo', ['Hello', name]);
  console.log(`   execFile: ${JSON.stringify(direct.stdout)}`);
  const shellOption = await execFileAsync('echo', ['Hello', name], { shell: true });
  console.log(`   execFile with { shell: true }: ${JSON.stringify(shellOption.stdout)}`);

  console.log('5. and the POSIX calls themselves are not there:');
  const posix = process as unknown as Record<string, unknown>;
  console.log(`   typeof process.fork: ${typeof posix.fork}, typeof process.execve: ${typeof posix.execve}`);
}

void main();
