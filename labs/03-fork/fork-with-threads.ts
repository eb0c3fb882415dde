/**
 * fork() in a multi-threaded process copies all of its memory but only ONE thread: the one that called
 * fork(). Whatever the other threads were doing is frozen in the child's copy, half done. Here, in Python,
 * a helper thread holds a lock while the main thread forks: in the child the lock stays locked for ever,
 * because the only thread that would have released it does not exist there.
 *
 *   npx tsx labs/03-fork/fork-with-threads.ts
 */
import { findPython, printIndented, runPython } from './native';

const SCRIPT = `
import os, threading, time

def threads():
    try:
        return len(os.listdir('/proc/self/task'))          # Linux: every thread of this process
    except OSError:
        return threading.active_count()                    # elsewhere: the threads Python knows of

lock = threading.Lock()
def helper():
    with lock:                                             # take the lock, work for 1 s, release it
        time.sleep(1.0)
threading.Thread(target=helper, daemon=True).start()
time.sleep(0.2)                                            # now the helper thread holds the lock

print('parent: %d threads; the helper thread holds the lock; fork()' % threads())
pid = os.fork()
if pid == 0:
    print('child : %d thread(s)' % threads())
    start = time.monotonic()
    got = lock.acquire(timeout=2)
    print('child : lock.acquire(timeout=2) -> %s after %.1f s' % (got, time.monotonic() - start))
    os._exit(0)
start = time.monotonic()
got = lock.acquire(timeout=2)
print('parent: lock.acquire(timeout=2) -> %s after %.1f s' % (got, time.monotonic() - start))
os.waitpid(pid, 0)
`;

if (findPython()) printIndented(runPython(SCRIPT).stdout, '');
else console.log('python3 with os.fork() not found here: this lab needs it (on Windows, use WSL)');
