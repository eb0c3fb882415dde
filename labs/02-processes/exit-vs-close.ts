/**
 * 'exit' fires when the child process ends; 'close' fires when, in addition, every stdio stream has ended.
 * They differ when another process still holds the child's stdout: here the child (a shell) starts a
 * background subshell, which inherits stdout, and exits at once; the subshell writes 500 ms later.
 *
 *   npx tsx labs/02-processes/exit-vs-close.ts
 */
import { spawn } from 'node:child_process';

const start = performance.now();
const log = (text: string): void =>
  console.log(`${String(Math.round(performance.now() - start)).padStart(5)} ms  ${text}`);

const child = spawn('sh', ['-c', 'echo early; (sleep 0.5; echo late) & exit 0']);
let stdout = '';
let atExit = '';
child.stdout.on('data', (chunk: Buffer) => {
  stdout += chunk.toString();
  log(`stdout 'data' ${JSON.stringify(chunk.toString())}`);
});
child.stdout.on('end', () => log("stdout 'end' (the last process holding the pipe's write end is gone)"));
child.on('exit', (code, signal) => {
  atExit = stdout;
  log(`'exit'  code=${code} signal=${signal}; stdout so far: ${JSON.stringify(stdout)}`);
});
child.on('close', (code, signal) => {
  log(`'close' code=${code} signal=${signal}; stdout now:    ${JSON.stringify(stdout)}`);
  console.log(
    `resolving on 'exit' would have returned ${JSON.stringify(atExit)}; on 'close', ${JSON.stringify(stdout)}`,
  );
});
