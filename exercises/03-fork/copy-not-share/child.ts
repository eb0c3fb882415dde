/**
 * Exercise 03-fork/copy-not-share — chapter: chapters/03-fork.md#exercise-copy-not-share
 *
 * The child process's entry file. index.ts starts it with `fork(path.join(__dirname, 'child.ts'), …)`. It
 * is a new Node process: it runs this file from the top, with none of the parent's variables or objects;
 * all it ever gets from the parent is what index.ts sends it, as a message on the IPC channel
 * (`process.on('message', …)`), and all the parent ever gets back is what this file sends
 * (`process.send(…)`).
 *
 * You design the messages with index.ts. The child receives the task file and its copy of the state,
 * loads the task module (its `module.exports`, or its `default` export, is the task function), keeps an
 * untouched deep copy of the state as it arrived, runs the task on the state (await what it returns),
 * works out the changes (see `Outcome.changes` in index.ts), and sends one answer back: the result and the
 * changes, or the message of whatever went wrong — including the error `process.send` throws when the
 * result cannot be copied. Then nothing may keep it alive: a process ends when it has nothing left to do,
 * and an IPC channel someone still listens on counts as something.
 */

// TODO: wait for the parent's one message, run the task on the copy, and answer exactly once.
throw new Error('Not implemented: the child process in exercises/03-fork/copy-not-share/child.ts');
