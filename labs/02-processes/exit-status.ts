/**
 * How a child ended: an exit code (it called exit, or returned from main) or a signal (something killed
 * it). Node reports exactly one of the two; the other is null. A shell in between turns a signal into the
 * exit code 128 + the signal's number. A command that cannot start never gets a pid or an exit status.
 *
 *   npx tsx labs/02-processes/exit-status.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

const node = process.execPath;

function ended(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.on('error', (error) => console.log(`   'error': ${error.message} (child.pid is ${child.pid})`));
    child.on('close', (code, signal) => resolve(`code=${code} signal=${signal}`));
  });
}

async function show(title: string, command: string, args: string[], act?: (child: ChildProcess) => void) {
  const child = spawn(command, args, { stdio: 'ignore' });
  act?.(child);
  console.log(`${title.padEnd(44)} ${await ended(child)}`);
}

async function main(): Promise<void> {
  await show('exits with 3', node, ['-e', 'process.exit(3)']);
  await show('throws an uncaught error', node, ['-e', "throw new Error('boom')"]);
  await show('kills itself with SIGTERM', node, ['-e', "process.kill(process.pid, 'SIGTERM')"]);
  await show('killed by the parent with SIGKILL', node, ['-e', 'setTimeout(() => {}, 10000)'], (child) =>
    child.kill('SIGKILL'),
  );
  const script = `"$0" -e "process.kill(process.pid, 'SIGTERM')"; exit $?`;
  await show('the same SIGTERM, seen through /bin/sh', 'sh', ['-c', script, node]);
  console.log(`   (SIGTERM is signal ${constants.signals.SIGTERM}: 128 + ${constants.signals.SIGTERM} = 143)`);
  await show('a command that does not exist', 'no-such-command', []);
}

void main();
