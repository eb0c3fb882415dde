/**
 * Node has no fork() for your code, so the labs that show the real POSIX fork() run it in a language that
 * has one: Python (`os.fork()`, as in the chapter's source article) or C (`fork()`, compiled with `cc`).
 * This module finds them and runs a script or a small C program. It is used by the other labs; it prints
 * nothing by itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Output {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** 'python3' if it runs here and its os module has fork() (Windows has none), else undefined. */
export function findPython(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import os; os.fork'], { encoding: 'utf8' });
  return probe.status === 0 ? 'python3' : undefined;
}

/**
 * Runs a Python script with `python3 -c`. Its stdout is a pipe to us. With `buffering: 'line'` (the default)
 * each print is written out at its end of line, as it is in a terminal; with 'block', prints collect in
 * Python's buffer until it fills or the process exits, as they do when you pipe a script into `cat`.
 */
export function runPython(script: string, options: { buffering?: 'line' | 'block'; args?: string[] } = {}): Output {
  const prelude = options.buffering === 'block' ? '' : 'import sys; sys.stdout.reconfigure(line_buffering=True)\n';
  const env = { ...process.env };
  delete env.PYTHONUNBUFFERED; // if set, it would make every write unbuffered
  const result = spawnSync('python3', ['-c', prelude + script, ...(options.args ?? [])], {
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

export interface CProgram {
  /** Runs the compiled program with these arguments and returns what it printed. */
  run(args?: string[]): Output;
  /** Deletes the temporary folder that holds the source and the program. */
  remove(): void;
}

/** Compiles C source with `cc` (extra flags such as -pthread appended); a string says why it could not. */
export function compileC(source: string, flags: string[] = []): CProgram | string {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no C compiler (cc) found';
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'fork-lab-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const file = path.join(dir, 'lab.c');
  const exe = path.join(dir, 'lab');
  writeFileSync(file, source);
  const compiled = spawnSync('cc', ['-O2', '-o', exe, file, ...flags], { encoding: 'utf8' });
  if (compiled.status !== 0) {
    remove();
    return `cc failed: ${compiled.stderr.trim().split('\n')[0]}`;
  }
  return {
    run(args = []) {
      const result = spawnSync(exe, args, { encoding: 'utf8', timeout: 60_000 });
      return { stdout: result.stdout, stderr: result.stderr, status: result.status };
    },
    remove,
  };
}

/** Prints each line of `text` indented, for quoting another program's output. */
export function printIndented(text: string, indent = '   '): void {
  for (const line of text.trimEnd().split('\n')) console.log(`${indent}${line}`);
}
