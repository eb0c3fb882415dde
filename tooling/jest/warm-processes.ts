/**
 * Processes for grading suites, started before they are needed. Each suite still gets a fresh process of
 * its own; starting it early hides Node's start-up and Jest's module loading behind the suite before it
 * (or behind Jest's own start-up, for the first). A process that is never used exits when Jest does, and
 * never keeps Jest alive: a waiting process, its IPC channel and its pipes are unreferenced until a suite
 * takes it, so a Jest command that runs no suite (`--listTests`, `--showConfig`) exits at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { containment } from './containment';
import { TAG_VARIABLE } from './process-table';

const FILE_PROCESS = path.join(__dirname, 'file-process.ts');

const tags = new WeakMap<ChildProcess, string>();

function start(): ChildProcess {
  // The tag, inherited by everything the suite starts, is how containment finds what the suite started.
  const tag = containment.newTag();
  const child = spawn(process.execPath, [FILE_PROCESS], {
    // A process group of its own, so that the whole group can be killed when its suite is done.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // jest.config.js has put the grader's environment (see grader-environment.ts) into process.env.
    env: { ...process.env, [TAG_VARIABLE]: tag },
  });
  if (child.pid !== undefined) containment.adopt(child.pid, tag);
  tags.set(child, tag);
  setReferenced(child, false);
  return child;
}

/** Whether `child` (the process, its IPC channel and its pipes) keeps this process's event loop alive. */
function setReferenced(child: ChildProcess, referenced: boolean): void {
  const handles = [child, child.channel, child.stdout, child.stderr] as ({ ref(): void; unref(): void } | null)[];
  for (const handle of handles) {
    if (referenced) handle?.ref();
    else handle?.unref();
  }
}

/** The containment tag of a process from `takeProcess`. */
export function tagOf(child: ChildProcess): string {
  return tags.get(child)!;
}

const idle: ChildProcess[] = [];

function usable(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

/** Keeps `count` processes started and waiting. */
export function warmUp(count: number): void {
  for (let index = idle.filter(usable).length; index < count; index += 1) idle.push(start());
}

/** A process for the next suite: a warm one if there is one, else a new one; then starts its successor. */
export function takeProcess(keepWarm: number): ChildProcess {
  let child = idle.shift();
  while (child && !usable(child)) child = idle.shift();
  const taken = child ?? start();
  setReferenced(taken, true);
  warmUp(keepWarm);
  return taken;
}

/** Ends the processes still waiting (at the end of a run). */
export function coolDown(): void {
  for (const child of idle.splice(0)) child.kill('SIGKILL');
}
