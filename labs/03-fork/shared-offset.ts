/**
 * fork() duplicates the parent's file descriptors: the child's fd 3 and the parent's fd 3 point at the
 * same open file description in the kernel, which holds the file offset. So when the child writes, the
 * parent's next write lands after it. Two separate open() calls, one in each process after fork(), give
 * two descriptions with two offsets, and the parent's write lands on top of the child's.
 *
 *   npx tsx labs/03-fork/shared-offset.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findPython, printIndented, runPython } from './native';

const SCRIPT = `
import os, sys

path, how = sys.argv[1], sys.argv[2]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC

if how == 'inherited':
    fd = os.open(path, flags)          # opened once, before fork(): the child inherits this descriptor
pid = os.fork()
if pid == 0:
    if how == 'separate':
        fd = os.open(path, flags)      # opened by the child itself, after fork()
    print('child : fd %d, my offset is %d before I write' % (fd, os.lseek(fd, 0, os.SEEK_CUR)))
    os.write(fd, b'the child wrote this line first\\n')
    os._exit(0)
os.waitpid(pid, 0)                     # the child has written and exited
if how == 'separate':
    fd = os.open(path, os.O_WRONLY)    # opened by the parent itself, after fork()
print('parent: fd %d, my offset is %d before I write' % (fd, os.lseek(fd, 0, os.SEEK_CUR)))
os.write(fd, b'then the parent\\n')
`;

function main(): void {
  if (!findPython()) {
    console.log('python3 with os.fork() not found here: this lab needs it (on Windows, use WSL)');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'fork-lab-'));
  const file = path.join(dir, 'out.txt');
  try {
    for (const how of ['inherited', 'separate']) {
      console.log(
        how === 'inherited'
          ? 'one open() before fork(): both processes use the same open file'
          : 'one open() in each process after fork(): two open files, two offsets',
      );
      printIndented(runPython(SCRIPT, { args: [file, how] }).stdout);
      console.log(`   the file now holds: ${JSON.stringify(readFileSync(file, 'utf8'))}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
