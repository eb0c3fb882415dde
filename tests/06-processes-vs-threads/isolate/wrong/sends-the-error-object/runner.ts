/**
 * Exercise 06-processes-vs-threads/isolate — chapter: chapters/06-processes-vs-threads.md#exercise-isolate
 *
 * The child's side of isolate(): index.ts forks this file, sends it one task over the IPC channel, and
 * this process runs it and sends back how the call went. Everything worse than a throw — exit, signal,
 * out of memory, never finishing — the parent reads from how this process ends.
 *
 * KNOWN-WRONG VARIANT: sends the thrown Error itself, spread into the report: JSON keeps only own enumerable properties, so its name and message are lost on the way.
 */

/** What the parent sends: the module to load and the argument for its function. */
export interface RunnerTask {
  module: string;
  input: unknown;
}

/**
 * What this process sends back: only strings and plain data, because the channel carries JSON
 * (an `Error` arrives as `{}`: its `message` is not enumerable and its `name` lives on the prototype).
 */
export type RunnerReport = { kind: 'result'; value: unknown } | { kind: 'threw'; name: string | null; message: string };

function describeThrown(thrown: unknown): RunnerReport {
  return thrown instanceof Error
    ? { kind: 'threw', ...thrown }
    : { kind: 'threw', name: null, message: String(thrown) };
}

async function runTask(task: RunnerTask): Promise<RunnerReport> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the task's module is named at run time
    const loaded = require(task.module) as unknown;
    const fn = typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | null)?.default;
    if (typeof fn !== 'function') throw new TypeError(`${task.module} does not export a function`);
    return { kind: 'result', value: await (fn as (input: unknown) => unknown)(task.input) };
  } catch (thrown) {
    return describeThrown(thrown);
  }
}

process.once('message', (task: RunnerTask) => {
  void runTask(task).then((report) => {
    try {
      process.send!(report);
    } catch (error) {
      // The value cannot be sent as JSON (a BigInt, a cycle): that is the task's failure too.
      process.send!(describeThrown(error));
    }
  });
});
