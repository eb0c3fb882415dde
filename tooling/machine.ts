/**
 * How much CPU a grading run really has, and what follows from it. Autograders run in containers whose
 * CPU share is a cgroup quota (Gradescope's default is half a CPU), which `os.availableParallelism()` does
 * not see on every Node.js version, so the quota is read here from the cgroup files (v1 and v2). No npm
 * package reads both versions' quotas, walking up the hierarchy, so this is done by hand.
 *
 * The time limits in workbook.json and in the suites were set on a machine with 2 CPUs grading 2 suites at
 * once. On less, suites are graded one at a time and every limit is stretched, so that a slow machine
 * never turns a correct solution into "hung"; a hang is still caught, only later.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/** CPUs of the machine the limits were set on. */
export const REFERENCE_CPUS = 2;
/** Suites graded at once on the reference machine; never more. */
export const MAX_LANES = 2;
/** The largest stretch of time limits (an eighth of the reference machine's CPU or less). */
export const MAX_TIME_SCALE = 8;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The folder and its ancestors up to `root`, deepest first. */
function upTo(root: string, relative: string): string[] {
  const folders: string[] = [];
  for (let current = relative; ; current = path.posix.dirname(current)) {
    folders.push(path.join(root, current));
    if (current === '/' || current === '.' || current === '') return folders;
  }
}

/** CPUs allowed by a quota and period, or undefined when there is no quota. */
function quotaCpus(quota: number, period: number): number | undefined {
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * The tightest CPU quota on this process's cgroup and its ancestors, in CPUs, or undefined when none is
 * set. `cgroupFile` and `mountRoot` are parameters so that the parsing can be tested.
 */
export function cgroupCpuQuota(cgroupFile = '/proc/self/cgroup', mountRoot = '/sys/fs/cgroup'): number | undefined {
  const limits: number[] = [];
  for (const line of (readText(cgroupFile) ?? '').split('\n')) {
    const fields = splitCgroupLine(line);
    if (!fields) continue;
    const [hierarchy, controllers, relative] = fields;
    if (hierarchy === '0' && controllers === '') {
      // cgroup v2: "max 100000" or "<quota> <period>" in cpu.max.
      for (const folder of [...upTo(mountRoot, relative), mountRoot]) {
        const [quota, period] = (readText(path.join(folder, 'cpu.max')) ?? '').trim().split(/\s+/);
        const cpus = quota === 'max' ? undefined : quotaCpus(Number(quota), Number(period));
        if (cpus !== undefined) limits.push(cpus);
      }
    } else if (controllers.split(',').includes('cpu')) {
      // cgroup v1: cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us, under the cpu controller's mount.
      for (const mount of [path.join(mountRoot, controllers), path.join(mountRoot, 'cpu')]) {
        for (const folder of [...upTo(mount, relative), mount]) {
          const quota = Number(readText(path.join(folder, 'cpu.cfs_quota_us')));
          const cpus = quotaCpus(quota, Number(readText(path.join(folder, 'cpu.cfs_period_us'))));
          if (cpus !== undefined) limits.push(cpus);
        }
      }
    }
  }
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** A /proc/self/cgroup line, `hierarchy:controllers:path`, split; undefined for anything else. */
function splitCgroupLine(line: string): [string, string, string] | undefined {
  const first = line.indexOf(':');
  const second = line.indexOf(':', first + 1);
  if (first === -1 || second === -1) return undefined;
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)];
}

/** The CPUs this process can use: those it may run on (taskset, cpusets), capped by any cgroup quota. */
export function effectiveCpus(): number {
  const quota = process.platform === 'linux' ? cgroupCpuQuota() : undefined;
  return Math.min(availableParallelism(), quota ?? Infinity);
}

export interface MachineShare {
  /** CPUs available, possibly fractional (0.5 for half a CPU). */
  cpus: number;
  /** Suites graded at the same time. */
  lanes: number;
  /** Factor applied to every time limit: 1 on the reference machine, more on a smaller share. */
  timeScale: number;
}

/**
 * Lanes and time scale for `cpus` CPUs; `overrideScale` (WORKBOOK_TIME_SCALE) replaces the computed
 * scale, for a machine slow in ways the quota does not show.
 */
export function machineShare(cpus = effectiveCpus(), overrideScale?: number): MachineShare {
  const lanes = Math.max(1, Math.min(MAX_LANES, Math.floor(cpus)));
  const computed = Math.min(MAX_TIME_SCALE, Math.max(1, REFERENCE_CPUS / cpus));
  return { cpus, lanes, timeScale: overrideScale ?? Math.round(computed * 100) / 100 };
}
