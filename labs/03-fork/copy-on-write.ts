/**
 * After fork() the child has its own copy of the parent's memory: a variable it changes stays unchanged in
 * the parent. But the kernel copies lazily (copy-on-write): right after fork() parent and child share every
 * page, read-only, and a page is copied only when one of them writes to it. This lab, in Python, forks a
 * process that holds a 128 MiB buffer and watches the child's private memory grow as it writes.
 *
 *   npx tsx labs/03-fork/copy-on-write.ts
 */
import { findPython, printIndented, runPython } from './native';

const SCRIPT = `
import os, time

SIZE = 128 * 2**20                   # a 128 MiB buffer
PAGE = 4096
counter = 100                        # an ordinary variable

def memory():
    """This process's dirty memory, shared with the other process and private, from /proc (Linux)."""
    try:
        fields = dict(line.split(':') for line in open('/proc/self/smaps_rollup') if ':' in line)
        kib = lambda name: int(fields[name].split()[0])
        return 'shared %4d MiB, private %4d MiB' % (kib('Shared_Dirty') // 1024, kib('Private_Dirty') // 1024)
    except (OSError, KeyError):
        return '(memory figures need Linux /proc)'

def touch_pages(value):
    """Writes one byte into every page of the buffer; returns the time it took in ms."""
    start = time.perf_counter()
    for i in range(0, SIZE, PAGE):
        buffer[i] = value
    return (time.perf_counter() - start) * 1000

buffer = bytearray(SIZE)
touch_pages(1)                       # first touch: now every page is really in memory
again = touch_pages(1)               # the same loop over pages that are already ours

start = time.perf_counter()
pid = os.fork()
if pid == 0:
    print('child : right after fork()        %s' % memory())
    counter = 999
    took = touch_pages(2)
    print('child : counter = %d; wrote 1 byte into each of the %d pages in %.1f ms' % (counter, SIZE // PAGE, took))
    print('child : after writing             %s' % memory())
    os._exit(0)
fork_ms = (time.perf_counter() - start) * 1000
os.waitpid(pid, 0)
print('parent: fork() returned in %.1f ms; the same write loop took %.1f ms before fork()' % (fork_ms, again))
print('parent: counter = %d, buffer[0] = %d: the child changed its copies, not ours' % (counter, buffer[0]))
`;

if (findPython()) printIndented(runPython(SCRIPT).stdout, '');
else console.log('python3 with os.fork() not found here: this lab needs it (on Windows, use WSL)');
