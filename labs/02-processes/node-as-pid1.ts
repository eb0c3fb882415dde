/**
 * What a container does to orphans when its pid 1 is a Node program. `unshare` (Linux only) starts Node as
 * pid 1 of a new, empty pid namespace, as a container runtime would. Node starts a shell that starts
 * `sleep 0.2` in the background and exits: the sleep is orphaned and adopted by pid 1, which is Node. libuv
 * reaps only the children Node spawned itself, so when the sleep ends, it stays a zombie.
 *
 *   npx tsx labs/02-processes/node-as-pid1.ts
 */
import { spawn } from 'node:child_process';

// Runs inside the new namespace, as pid 1.
const asPid1 = `
  const { spawn, execFileSync } = require('child_process');
  console.log('inside: I am pid ' + process.pid);
  const sh = spawn('sh', ['-c', 'sleep 0.2 >/dev/null & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] });
  sh.stdout.once('data', (data) => {
    const orphan = String(data).trim();
    sh.on('exit', () => console.log('inside: the shell exited and was reaped (Node spawned it)'));
    setTimeout(() => {
      const ps = execFileSync('ps', ['-o', 'pid=,ppid=,stat=,args=', '-p', orphan], { encoding: 'utf8' }).trim();
      console.log('inside: 1 s later, the orphaned sleep: ' + ps);
    }, 1000);
  });`;

// -r: map our user to root inside (no privileges needed where user namespaces are enabled);
// -p -f: a new pid namespace, with the command as its pid 1; --mount-proc: a /proc that shows it.
const child = spawn('unshare', ['-r', '-p', '-f', '--mount-proc', process.execPath, '-e', asPid1], {
  stdio: ['ignore', 'inherit', 'pipe'],
});
let errors = '';
child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
child.on('error', () => console.log('this lab needs Linux and the unshare command (util-linux)'));
child.on('close', (code) => {
  // When pid 1 of a namespace exits, the kernel ends everything left in it: the zombie goes with it.
  if (code !== 0) console.log(`unshare could not make a pid namespace here: ${errors.trim()}`);
});
