/**
 * Exercise 06-processes-vs-threads/isolate — chapter: chapters/06-processes-vs-threads.md#exercise-isolate
 *
 * The child's side of isolate(): index.ts forks this file, sends it one task over the IPC channel, and
 * this process runs it and sends back how the call went. Everything worse than a throw — exit, signal,
 * out of memory, never finishing — the parent reads from how this process ends.
 *
 * What this file must do, in the child:
 * 1. Wait for the one message the parent sends (process.on('message', …)): the task, `{ module, input }`
 *    (the protocol between index.ts and this file is yours to choose; this is the suggested one).
 * 2. Load `task.module` with require() (loading is part of the task: an error there is a throw too), take
 *    its function (`module.exports`, or its `default` export), and call it with `task.input`. Await what it
 *    returns: it may be a promise.
 * 3. Send back what happened with process.send: the value it returned, or, if it threw or rejected, the
 *    thrown Error's `name` and `message` as strings (`name: null` and `message: String(value)` for anything
 *    thrown that is not an Error). Send strings and plain data only: the channel carries JSON, and an Error
 *    arrives as `{}`.
 * Then the child must end, even if the task left a timer running (see isolate() in index.ts).
 */
export {};

// TODO: receive the task, run it, and report back how the call went.
throw new Error('Not implemented: the runner (runner.ts) in exercises/06-processes-vs-threads/isolate');
