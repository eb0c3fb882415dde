/**
 * An orphan is a process whose parent has exited. It keeps running; the kernel gives it a new parent
 * (pid 1, or the nearest ancestor registered as a "subreaper"), and that new parent reaps it when it ends.
 *
 * The child is a shell that starts `sleep 1` in the background, prints its pid and exits 300 ms later.
 *
 *   npx tsx labs/02-processes/orphan.ts
 */
import { execFileSync, spawn } from 'node:child_process';

const start = performance.now();
const log = (text: string): void =>
  console.log(`${String(Math.round(performance.now() - start)).padStart(5)} ms  ${text}`);

/** `[ppid, state, parent's name]` of a pid, or undefined once the pid is gone (reaped). */
function inspect(pid: number): { ppid: number; state: string; parent: string } | undefined {
  try {
    const [ppid, state] = execFileSync('ps', ['-o', 'ppid=,stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    const parent = execFileSync('ps', ['-o', 'comm=', '-p', ppid!], { encoding: 'utf8' }).trim();
    return { ppid: Number(ppid), state: state!, parent };
  } catch {
    return undefined;
  }
}

const describe = (pid: number): string => {
  const info = inspect(pid);
  return info ? `ppid=${info.ppid} (${info.parent}) state=${info.state}` : 'gone: reaped by its parent';
};

async function main(): Promise<void> {
  const shell = spawn('sh', ['-c', 'sleep 1 >/dev/null & echo $!; sleep 0.3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [first] = await new Promise<Buffer[]>((resolve) =>
    shell.stdout.once('data', (chunk: Buffer) => resolve([chunk])),
  );
  const orphan = Number(String(first).trim());
  log(`our child: the shell, pid ${shell.pid}; its child: sleep, pid ${orphan}`);
  log(`sleep ${orphan}: ${describe(orphan)}`);
  await new Promise((resolve) => shell.on('exit', resolve));
  log(`the shell exited`);
  let last = `${describe(orphan)}`;
  log(`sleep ${orphan}: ${last}   <- an orphan, adopted`);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = describe(orphan);
    if (now !== last) log(`sleep ${orphan}: ${now}`);
    last = now;
    if (now.startsWith('gone')) break;
    if (performance.now() - start > 6000) {
      log(`still a zombie: this machine's pid 1 does not reap adopted children (common in containers)`);
      break;
    }
  }
}

void main();
