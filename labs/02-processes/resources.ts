/**
 * A process is the unit of resources: a pid, a parent (ppid), an environment, a working directory, a
 * table of file descriptors, and at the end an exit status. This lab prints them for itself (the parent)
 * and for a child it starts, then shows which of them the child got from the parent and which are its own.
 *
 *   npx tsx labs/02-processes/resources.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, fstatSync, readlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** What file descriptor `fd` is: on Linux the kernel's name for it, elsewhere its type. */
function describeFd(fd: number): string {
  try {
    if (existsSync('/proc/self/fd')) return readlinkSync(`/proc/self/fd/${fd}`);
    const stat = fstatSync(fd);
    if (stat.isFIFO()) return 'pipe';
    if (stat.isSocket()) return 'socket';
    if (stat.isCharacterDevice()) return 'terminal or device';
    return 'file';
  } catch {
    return 'closed';
  }
}

function report(role: string): void {
  const line = (text: string): void => console.log(`${role.padEnd(6)} ${text}`);
  const parentName = execFileSync('ps', ['-o', 'comm=', '-p', String(process.ppid)], { encoding: 'utf8' }).trim();
  line(`pid=${process.pid} ppid=${process.ppid} (${parentName})`);
  line(`cwd=${process.cwd()}  GREETING=${process.env.GREETING ?? '(unset)'}`);
  line(`fds: ${[0, 1, 2, 3].map((fd) => `${fd}→${describeFd(fd)}`).join('  ')}`);
}

if (process.argv[2] === 'child') {
  report('child');
  process.env.GREETING = 'changed by the child'; // changes the child's own copy only
  writeSync(3, 'a message written to fd 3\n'); // a descriptor the parent set up for us
  process.exit(7);
} else {
  report('parent');
  // Start this same file again as a child (process.execArgv carries tsx's loader flags).
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'child'], {
    cwd: tmpdir(),
    env: { ...process.env, GREETING: 'hello from the parent' },
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'], // fd 3 in the child is a pipe to us
  });
  console.log(`parent spawned pid ${child.pid}`);
  child.stdio[3]!.on('data', (chunk: Buffer) =>
    console.log(`parent read on the child's fd 3: ${chunk.toString().trim()}`),
  );
  child.on('close', (code, signal) => {
    console.log(`parent child ended: code=${code} signal=${signal}`);
    console.log(`parent my GREETING is still ${process.env.GREETING ?? '(unset)'}, my cwd is still ${process.cwd()}`);
  });
}
