/**
 * child_process.fork() is not POSIX fork(). It starts a NEW node process that loads this module from the
 * top, with an IPC channel to the parent. Nothing returns twice and nothing is copied: the module-level
 * counter starts again from zero in the child, and the parent's changes to it never get there.
 *
 *   npx tsx labs/03-fork/node-fork.ts
 */
import { fork } from 'node:child_process';
import { readlinkSync } from 'node:fs';

let counter = 0; // module-level state
counter += 1; // runs whenever a process loads this module

const role = process.send === undefined ? 'parent' : 'child'; // only a forked child has process.send
const say = (text: string): void => console.log(`${role.padEnd(6)} pid ${process.pid}: ${text}`);
say(`the top of the module runs; counter = ${counter}`);

interface ChildReport {
  counter: number;
  ppid: number;
  argv: string[];
  execArgv: string[];
  channel: string;
}

if (role === 'parent') {
  counter = 42; // a change the parent makes before forking
  say(`counter = ${counter}; calling fork(__filename)`);
  const child = fork(__filename, ['an', 'argument']); // execArgv is inherited: the child loads tsx too
  say(`fork() returned, once, a ${child.constructor.name} for pid ${child.pid}`);
  child.on('message', (report: ChildReport) => {
    say(`the child's counter is ${report.counter}, ours is ${counter}`);
    say(`the child's ppid is ${report.ppid}, its argv: ${JSON.stringify(report.argv)}`);
    say(`the child's execArgv (copied from ours): ${JSON.stringify(report.execArgv)}`);
    say(`the child's IPC channel: ${report.channel}`);
  });
  child.on('exit', (code) => say(`the child exited with code ${code}`));
} else {
  const fd = (process.channel as unknown as { fd: number }).fd; // the descriptor of the IPC channel
  let channel = `fd ${fd}`;
  try {
    channel += ` -> ${readlinkSync(`/proc/self/fd/${fd}`)}`; // Linux: what that descriptor is
  } catch {
    // no /proc (macOS): the fd number is all we show
  }
  const argv = process.argv.map((arg) => arg.replace(process.cwd() + '/', ''));
  const execArgv = process.execArgv.map((arg) => arg.replace(/^.*node_modules\//, '')); // shorter paths
  process.send!({ counter, ppid: process.ppid, argv, execArgv, channel } satisfies ChildReport);
  process.disconnect(); // close the channel: nothing keeps this process alive any more
}
