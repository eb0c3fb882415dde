/**
 * `npm run bench:small -- [--cpus 0.5] [--cpu-list 0] [--memory 768M] [--runs N] [--each] [--target T] [--only <id>]...`
 *
 * Grades a tree (the reference solutions by default) on a small machine made here: a cgroup with a CPU
 * quota (`--cpus`, as Gradescope's half a CPU), a CPU affinity (`--cpu-list`, as `taskset -c`), and a memory
 * limit (`--memory`, as Gradescope's 768 MB). It reports, for each run, the score, the wall-clock time and
 * the peak memory the cgroup charged (every process of the run together, page cache included), and
 * whether the memory limit killed anything. `--each` also grades every exercise alone, for the heaviest.
 *
 * Needs root and cgroups (v1 or v2), as on a Linux CI machine or container; says so and exits otherwise.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gradingRun, type GradingRun } from '../tooling/grading-run';
import { loadManifest, selectExercises } from '../tooling/manifest';

interface Cgroup {
  /** Folders to put the graded process in (one per v1 controller, or the v2 one). */
  folders: string[];
  /** Peak memory charged so far, in bytes. */
  peakBytes(): number;
  /** How many times the memory limit killed a process. */
  oomKills(): number;
  remove(): void;
}

const read = (file: string): string => readFileSync(file, 'utf8').trim();

function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text.trim());
  if (!match) throw new Error(`--memory ${text}: use a size such as 768M or 2G`);
  return Math.round(Number(match[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2]!.toUpperCase()]!);
}

/** This process's cgroup path for a v1 controller, or for v2 (`controller` ''). */
function ownCgroup(controller: string): string | undefined {
  for (const line of read('/proc/self/cgroup').split('\n')) {
    const [hierarchy, controllers, relative] = line.split(':');
    if (controller === '' ? hierarchy === '0' && controllers === '' : controllers!.split(',').includes(controller))
      return relative;
  }
  return undefined;
}

/** A fresh cgroup with the given CPU quota and memory limit, under this process's own. */
function makeCgroup(cpus: number | undefined, memoryBytes: number | undefined): Cgroup {
  const name = `workbook-small-${process.pid}`;
  const v1Cpu = ownCgroup('cpu');
  const v1Memory = ownCgroup('memory');
  if (v1Cpu !== undefined && v1Memory !== undefined) {
    const cpu = path.join('/sys/fs/cgroup/cpu', v1Cpu, name);
    const memory = path.join('/sys/fs/cgroup/memory', v1Memory, name);
    mkdirSync(cpu);
    mkdirSync(memory);
    const period = Number(read(path.join(cpu, 'cpu.cfs_period_us')));
    if (cpus !== undefined) writeFileSync(path.join(cpu, 'cpu.cfs_quota_us'), String(Math.round(cpus * period)));
    if (memoryBytes !== undefined) writeFileSync(path.join(memory, 'memory.limit_in_bytes'), String(memoryBytes));
    return {
      folders: [cpu, memory],
      peakBytes: () => Number(read(path.join(memory, 'memory.max_usage_in_bytes'))),
      oomKills: () => Number(/oom_kill (\d+)/.exec(read(path.join(memory, 'memory.oom_control')))?.[1] ?? 0),
      remove: () => [cpu, memory].forEach((folder) => rmdirSync(folder)),
    };
  }
  const v2 = ownCgroup('');
  if (v2 === undefined) throw new Error('no cgroup found in /proc/self/cgroup');
  const folder = path.join('/sys/fs/cgroup', v2, name);
  mkdirSync(folder);
  if (cpus !== undefined) writeFileSync(path.join(folder, 'cpu.max'), `${Math.round(cpus * 100000)} 100000`);
  if (memoryBytes !== undefined) writeFileSync(path.join(folder, 'memory.max'), String(memoryBytes));
  return {
    folders: [folder],
    peakBytes: () => Number(read(path.join(folder, 'memory.peak'))),
    oomKills: () => Number(/oom_kill (\d+)/.exec(read(path.join(folder, 'memory.events')))?.[1] ?? 0),
    remove: () => rmdirSync(folder),
  };
}

interface Run extends GradingRun {
  peakMiB: number;
  oomKills: number;
}

/** Grades `target` (Jest patterns `patterns`) inside a new cgroup, pinned to `cpuList` if given. */
async function gradeConstrained(
  target: string,
  patterns: string[],
  limits: { cpus?: number; memoryBytes?: number; cpuList?: string },
): Promise<Run> {
  const cgroup = makeCgroup(limits.cpus, limits.memoryBytes);
  // A shell joins the cgroup, then becomes Jest: everything the grading starts is charged to the cgroup.
  const join = cgroup.folders.map((folder) => `echo $$ > ${JSON.stringify(path.join(folder, 'cgroup.procs'))}`);
  const pin = limits.cpuList ? ['taskset', '-c', limits.cpuList] : [];
  const graded = await gradingRun(target, patterns, {}, [], (command) => [
    'sh',
    '-c',
    `${join.join('; ')}; exec "$@"`,
    'sh',
    ...pin,
    ...command,
  ]);
  const run = { ...graded, peakMiB: cgroup.peakBytes() / 2 ** 20, oomKills: cgroup.oomKills() };
  // The run's watchdog may still be finishing in the cgroup: give it a moment to leave before removing it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  try {
    cgroup.remove();
  } catch {
    // Still busy: the kernel keeps a cgroup while a process is in it; it goes at the next boot.
  }
  return run;
}

function describe(run: Run, exerciseIds: string[]): string {
  const graded = run.results?.extra_data.exercises.filter((exercise) => exerciseIds.includes(exercise.id)) ?? [];
  const score = graded.reduce((sum, exercise) => sum + exercise.score, 0);
  const max = graded.reduce((sum, exercise) => sum + exercise.max_score, 0);
  const lost = graded.filter((exercise) => exercise.status !== 'passed');
  const failed = (run.results?.tests ?? []).filter(
    (test) => test.status === 'failed' && lost.some((exercise) => test.name.startsWith(`${exercise.id} › `)),
  );
  return (
    `${run.results ? `${Math.round(score * 100) / 100} / ${max}` : 'no results'} in ${run.seconds.toFixed(1)} s, ` +
    `peak ${run.peakMiB.toFixed(0)} MiB${run.oomKills > 0 ? `, ${run.oomKills} killed by the memory limit` : ''}` +
    failed.map((test) => `\n    ✗ ${test.name}: ${test.output.split('\n')[0]}`).join('')
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cpus: { type: 'string' },
      'cpu-list': { type: 'string' },
      memory: { type: 'string' },
      runs: { type: 'string', default: '1' },
      each: { type: 'boolean', default: false },
      target: { type: 'string', default: 'solutions' },
      only: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const limits = {
    cpus: values.cpus === undefined ? undefined : Number(values.cpus),
    memoryBytes: values.memory === undefined ? undefined : parseBytes(values.memory),
    cpuList: values['cpu-list'],
  };
  const manifest = loadManifest();
  const exercises = values.only ? selectExercises(manifest, values.only) : manifest.exercises;
  const ids = exercises.map((exercise) => exercise.id);
  const patterns = values.only ? ids.map((id) => `tests/${id}/`) : [];
  console.log(
    `Grading ${values.target} with ${limits.cpus ?? 'all'} CPU(s)${limits.cpuList ? ` pinned to CPU ${limits.cpuList}` : ''}, ` +
      `memory limit ${values.memory ?? 'none'}:`,
  );
  let problems = 0;
  for (let run = 1; run <= Number(values.runs); run += 1) {
    const graded = await gradeConstrained(values.target, patterns, limits);
    const full = graded.results?.extra_data.exercises.every((e) => !ids.includes(e.id) || e.status === 'passed');
    if (!full || graded.oomKills > 0) problems += 1;
    console.log(`run ${run}: ${describe(graded, ids)}`);
  }
  if (values.each) {
    console.log('Each exercise alone:');
    for (const id of ids) {
      const graded = await gradeConstrained(values.target, [`tests/${id}/`], limits);
      console.log(`  ${id.padEnd(44)} ${describe(graded, [id])}`);
    }
  }
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`small-machine: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
