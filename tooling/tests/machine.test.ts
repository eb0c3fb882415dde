/** The machine's CPU share, read from cgroup files (v1 and v2), and the lanes and time scale it gives. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cgroupCpuQuota, machineShare, MAX_TIME_SCALE } from '../machine';

const scratch = mkdtempSync(path.join(tmpdir(), 'workbook-machine-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `files` (path → text) under a fresh folder and returns its path. */
function tree(name: string, files: Record<string, string>): string {
  const root = path.join(scratch, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('cgroupCpuQuota', () => {
  test('reads a cgroup v2 quota, the tightest of the cgroup and its ancestors', () => {
    const root = tree('v2', {
      'proc/cgroup': '0::/grading/job\n',
      'sys/cpu.max': 'max 100000\n',
      'sys/grading/cpu.max': '150000 100000\n',
      'sys/grading/job/cpu.max': '50000 100000\n',
    });
    expect(cgroupCpuQuota(path.join(root, 'proc/cgroup'), path.join(root, 'sys'))).toBe(0.5);
  });

  test('reads a cgroup v1 quota under the cpu controller, and none when it is -1', () => {
    const root = tree('v1', {
      'proc/cgroup': '4:memory:/x\n3:cpu,cpuacct:/docker/abc\n',
      'sys/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      'sys/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '100000\n',
      'sys/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(path.join(root, 'proc/cgroup'), path.join(root, 'sys'))).toBe(1);
    const none = tree('v1-none', {
      'proc/cgroup': '3:cpu:/\n',
      'sys/cpu/cpu.cfs_quota_us': '-1\n',
      'sys/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(path.join(none, 'proc/cgroup'), path.join(none, 'sys'))).toBeUndefined();
  });

  test('reads the quota at the mount root when a container shows its cgroup by a path it cannot see', () => {
    const root = tree('container', {
      'proc/cgroup': '0::/system.slice/docker-1.scope\n',
      'sys/cpu.max': '50000 100000\n',
    });
    expect(cgroupCpuQuota(path.join(root, 'proc/cgroup'), path.join(root, 'sys'))).toBe(0.5);
  });

  test('finds nothing without cgroup files', () => {
    expect(cgroupCpuQuota(path.join(scratch, 'missing'), path.join(scratch, 'missing'))).toBeUndefined();
  });
});

describe('machineShare', () => {
  test.each([
    [4, 2, 1],
    [2, 2, 1],
    [1.5, 1, 1.33],
    [1, 1, 2],
    [0.5, 1, 4],
    [0.1, 1, MAX_TIME_SCALE],
  ])('%d CPUs: %d lanes, time limits × %d', (cpus, lanes, timeScale) => {
    expect(machineShare(cpus)).toEqual({ cpus, lanes, timeScale });
  });

  test('a time scale given by the instructor replaces the computed one', () => {
    expect(machineShare(2, 3).timeScale).toBe(3);
  });
});
