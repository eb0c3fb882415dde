/**
 * A zombie is a process that has exited but whose parent has not yet collected ("reaped") its exit status
 * with wait(). Node reaps its children inside the event loop (libuv handles SIGCHLD there), so while the
 * loop is blocked, an exited child stays a zombie, and its 'exit' event waits too.
 *
 *   npx tsx labs/02-processes/zombie.ts
 */
import { execFileSync, spawn } from 'node:child_process';

const start = performance.now();
const now = (): number => Math.round(performance.now() - start);
const log = (text: string): void => console.log(`${String(now()).padStart(5)} ms  ${text}`);

/** `ps` line for the pid: STAT "Z" and "<defunct>" mark a zombie. (execFileSync runs ps on its own loop.) */
function ps(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid=,ppid=,stat=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '(no such process: reaped)';
  }
}

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the event loop cannot run
  }
}

const child = spawn('true'); // exits at once
child.on('exit', (code) => log(`'exit' event (code ${code}): libuv has reaped the child`));
log(`we are pid ${process.pid}; spawned pid ${child.pid}; now blocking the event loop for 1 s`);
blockFor(500);
log(`ps: ${ps(child.pid!)}`);
blockFor(500);
log(`ps: ${ps(child.pid!)}`);
process.kill(child.pid!, 0); // signal 0 checks only: it does not throw, a zombie still has its pid
log(`process.kill(${child.pid}, 0) succeeds: the pid is still taken`);
log('unblocking the event loop');
setTimeout(() => log(`ps: ${ps(child.pid!)}`), 50);
