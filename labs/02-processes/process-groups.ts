/**
 * Killing the direct child is not enough: its own children (our grandchildren) live on. A process group
 * fixes that. `detached: true` makes the child the leader of a new group that its descendants join, and
 * `process.kill(-pgid, signal)` signals every process in the group at once.
 *
 * The child is a shell that starts two `sleep 30` in the background, prints their pids and waits.
 *
 *   npx tsx labs/02-processes/process-groups.ts
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

const script = 'sleep 30 >/dev/null & echo $!; sleep 30 >/dev/null & echo $!; wait';

/** `ps` rows for the given pids. Zombies (exited, not yet reaped: STAT Z) are left out unless asked for. */
function ps(pids: number[], zombies = false): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,ppid=,pgid=,stat=,comm=', '-p', pids.join(',')], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when none of the pids exists.
  }
  return out
    .split('\n')
    .filter((line) => line.trim() && (zombies || !/^\s*\S+\s+\S+\s+\S+\s+Z/.test(line)))
    .map((line) => `   ${line.trim()}`);
}

const show = (title: string, pids: number[], zombies = false): void => {
  const rows = ps(pids, zombies);
  console.log(`${title}\n   PID  PPID  PGID STAT COMMAND\n${rows.length ? rows.join('\n') : '   (none alive)'}`);
};

async function startTree(detached: boolean): Promise<{ shell: ChildProcess; sleeps: number[] }> {
  const shell = spawn('sh', ['-c', script], { detached, stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  for await (const chunk of shell.stdout!) {
    text += String(chunk);
    if (text.trim().split('\n').length === 2) break; // the two sleep pids have arrived
  }
  return { shell, sleeps: text.trim().split('\n').map(Number) };
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

async function goneSoon(pids: number[]): Promise<void> {
  for (let i = 0; i < 50 && ps(pids).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function main(): Promise<void> {
  console.log(`this lab: pid ${process.pid}, process group ${getPgid(process.pid)}\n`);

  console.log('1. a plain spawn: the shell joins OUR process group');
  const plain = await startTree(false);
  const plainPids = [process.pid, plain.shell.pid!, ...plain.sleeps];
  show('   before:', plainPids);
  plain.shell.kill('SIGTERM');
  await exited(plain.shell);
  show(`   after child.kill('SIGTERM') on the shell (${plain.shell.pid}):`, plain.sleeps);
  console.log('   the sleeps survived, adopted by a new parent. Cleaning them up by pid.\n');
  for (const pid of plain.sleeps) process.kill(pid, 'SIGKILL');
  await goneSoon(plain.sleeps);

  console.log('2. spawn with detached: true: the shell leads a NEW group, and its children join it');
  const group = await startTree(true);
  show('   before:', [process.pid, group.shell.pid!, ...group.sleeps]);
  const pgid = group.shell.pid!;
  process.kill(-pgid, 'SIGTERM'); // a negative pid means "the process group with this id"
  await exited(group.shell);
  await goneSoon(group.sleeps);
  show(`   after process.kill(-${pgid}, 'SIGTERM'), zombies included:`, [pgid, ...group.sleeps], true);

  // Signal 0 delivers nothing; it only checks. For a group it succeeds while the group has ANY member,
  // and a zombie is a member until someone reaps it.
  const hasMembers = (): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false; // ESRCH
    }
  };
  const since = performance.now();
  console.log(
    `   process.kill(-${pgid}, 0) ${hasMembers() ? 'succeeds: the group still has members' : 'fails: ESRCH'}`,
  );
  while (hasMembers() && performance.now() - since < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
  const waited = Math.round(performance.now() - since);
  console.log(
    hasMembers()
      ? `   after ${waited} ms the group still has zombie members: this machine's pid 1 does not reap orphans`
      : `   process.kill(-${pgid}, 0) fails with ESRCH after ${waited} ms: every member has been reaped`,
  );
}

function getPgid(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

void main();
