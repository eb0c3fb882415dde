import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { types } from 'node:util';
import { applyChanges, runOnCopy, type Change, type Key } from '@target/03-fork/copy-not-share';
import { within } from '../../support/deadline';
import { isAlive, killAll } from '../../support/processes';

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
const WAIT_MS = 8000;

/**
 * A realm-independent picture of a value, for comparing and for failure messages. Values that come back
 * from a child are built by Node's internals in another realm than this test's, so `instanceof Map` and
 * deepStrictEqual's prototype checks would fail on perfectly good copies; `util.types` does not.
 */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value !== 'object' || value === null) return String(value);
  if (types.isDate(value)) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (types.isMap(value)) return `Map { ${[...value].map(([k, v]) => `${show(k)} => ${show(v)}`).join(', ')} }`;
  if (types.isSet(value)) return `Set { ${[...value].map(show).join(', ')} }`;
  if (types.isTypedArray(value)) return `${kind(value)} [${[...(value as Uint8Array)].join(', ')}]`;
  if (types.isSharedArrayBuffer(value) || types.isArrayBuffer(value)) return kind(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  const entries = Object.entries(value).map(([k, v]) => `${k}: ${show(v)}`);
  return `{ ${entries.join(', ')} }`;
}
const kind = (value: object): string => Object.prototype.toString.call(value).slice(8, -1);

/** The pids of this process's children that are still running (zombies, dead but not reaped, do not count). */
function runningChildren(): number[] {
  if (existsSync('/proc/self/stat')) {
    const children: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // Fields after the parenthesised command name: state, ppid, …
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') children.push(Number(entry));
    }
    return children;
  }
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, stat]) => Number(ppid) === process.pid && !stat!.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

// Children this process had before any test ran (none are expected) are not the tests' business.
const childrenBefore = new Set(runningChildren());
/** The children of this process that the graded code started and that are still running. */
const liveChildren = (): number[] => runningChildren().filter((pid) => !childrenBefore.has(pid));

// Whatever a wrong solution leaves running is killed after each test (never this process itself: a task run
// in-process reports this process's pid).
const started: number[] = [];
afterEach(() => killAll([...started.splice(0), ...liveChildren()].filter((pid) => pid !== process.pid)));

type Settled<T> = { value: T } | { error: unknown };

/**
 * Calls `start` and turns its outcome into a value at once (a synchronous throw included), so that no
 * rejection is ever left unhandled while the test does something else.
 */
function settle<T>(start: () => Promise<T>): Promise<Settled<T>> {
  try {
    return start().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  } catch (error) {
    return Promise.resolve({ error });
  }
}

const messageOf = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);

/** The value of a call that had to succeed; a stub's "Not implemented" error is passed on as it is. */
async function succeeded<T>(outcome: Promise<Settled<T>>, what: string): Promise<T> {
  const settled = await within(
    outcome,
    WAIT_MS,
    `runOnCopy never settled for ${what}. It should settle once the child has answered and ended: listen for ` +
      `the child's messages and for its 'close' (or 'exit') event, and make sure the child does end after ` +
      `answering (an IPC channel with a 'message' listener keeps a process alive until it disconnects).`,
  );
  if ('value' in settled) return settled.value;
  const message = messageOf(settled.error);
  if (message.startsWith('Not implemented')) throw settled.error;
  return assert.fail(`runOnCopy rejected for ${what}, with: ${message}${adviceFor(message)}`);
}

/** What a rejection that should not have happened probably means. */
function adviceFor(message: string): string {
  if (/Promise/.test(message)) return '\nThe task returned a Promise, which cannot be copied: await what it returns.';
  if (/not iterable|is not a function|BigInt|serialize/i.test(message)) {
    return `\nDid the child get the state as a Map? ${JSON_HINT}`;
  }
  return '';
}

/** The error of a call that had to fail. */
async function failed(outcome: Promise<Settled<unknown>>, what: string, never: string): Promise<string> {
  const settled = await within(outcome, WAIT_MS, `runOnCopy never settled for ${what}. ${never}`);
  if ('value' in settled) return assert.fail(`runOnCopy resolved for ${what}, with ${show(settled.value)}.`);
  const message = messageOf(settled.error);
  if (message.startsWith('Not implemented')) throw settled.error;
  return message;
}

/** What the returns-its-copy fixture answers. */
interface Echo {
  pid: number;
  state: Map<Key, unknown>;
}

/** A state with every kind of value the 'json' serialization loses or refuses. */
function richState(): Map<string, unknown> {
  return new Map<string, unknown>([
    ['when', new Date(Date.UTC(2024, 1, 29, 12, 30))],
    ['count', 2n ** 64n + 1n],
    ['tags', new Set(['copy', 'not', 'share'])],
    ['bytes', new Uint8Array([0, 127, 255])],
    ['nested', { names: new Map<number, string>([[1, 'one']]), missing: undefined }],
    ['nothing', undefined],
    // Changed by the parent right after the call (see echoRun): the child's copy must not show it.
    ['log', new Set(['at the call'])],
    ['status', 'as at the call'],
  ]);
}
const TYPED_KEYS = ['when', 'count', 'tags', 'bytes', 'nested', 'nothing'];
const LATE_KEYS = ['log', 'status', 'added-after-the-call'];

/** The entries of `state` under `keys` (or the whole value, if it is not even a Map). */
function pick(state: unknown, keys: string[]): string {
  if (!types.isMap(state)) return show(state);
  return show(new Map([...state].filter(([key]) => keys.includes(key as string))));
}

/** The state the edits-its-copy fixture works on. */
function stateToEdit(): Map<string, unknown> {
  return new Map<string, unknown>([
    ['untouched', new Date(Date.UTC(2020, 5, 1))],
    ['also-untouched', new Set([1, 2])],
    ['replaced', 'old value'],
    ['removed', 1],
    ['moved-in-place', new Date(Date.UTC(2010, 0, 1))],
    ['grown-in-place', new Set(['there before'])],
  ]);
}

const JSON_HINT =
  "With the default serialization, 'json', a Map arrives as {}, a Set as {}, a Date as a string, a " +
  "Uint8Array as an object with numbered keys, undefined is dropped and a BigInt cannot be sent at all. Fork with { serialization: 'advanced' } " +
  '(the structured clone algorithm).';

/**
 * One child run shared by the tests that each check a different side of it: a fork costs 150–300 ms, more
 * on a busy machine. Started by the first test that needs it, and settled (its child gone) within that test.
 */
function shared<T>(run: () => T): () => T {
  let value: { run: T } | undefined;
  return () => (value ??= { run: run() }).run;
}

/**
 * A task that answers with its pid and its copy of `richState()`, while the parent changes its own state
 * right after the call; and whether the child was still running when the promise settled.
 */
const echoRun = shared(() => {
  const state = richState();
  const sent = { typed: pick(state, TYPED_KEYS), late: pick(state, LATE_KEYS) };
  const outcome = settle(() => runOnCopy<string, unknown, Echo>(fixture('returns-its-copy.js'), state)).then(
    (settled) => {
      // Looked at the moment the promise settles: is the child still running then?
      const pid = 'value' in settled ? settled.value?.result?.pid : undefined;
      const aliveWhenSettled = typeof pid === 'number' && pid !== process.pid && isAlive(pid);
      if (typeof pid === 'number') started.push(pid);
      return { settled, aliveWhenSettled };
    },
  );
  // The parent goes on working on its state while the child starts.
  state.set('added-after-the-call', true);
  (state.get('log') as Set<string>).add('grown in place after the call');
  state.set('status', 'changed after the call');
  return { sent, outcome };
});

/** The copy of the state the echo task returned. */
async function echoedState(): Promise<unknown> {
  const { outcome } = echoRun();
  const settled = outcome.then(({ settled }) => settled);
  return (await succeeded(settled, 'a task that returns its copy of the state'))?.result?.state;
}

/** What the parent does to its own state while the child works on its copy: only keys the task leaves alone. */
function parentChangesMeanwhile(state: Map<string, unknown>): void {
  state.set('untouched', new Date(Date.UTC(1999, 11, 31)));
  state.set('added-by-the-parent', 'mine');
}

/** A task that edits its copy of `stateToEdit()`, while the parent changes other keys of its own state. */
const editRun = shared(() => {
  const state = stateToEdit();
  const outcome = settle(() => runOnCopy(fixture('edits-its-copy.js'), state));
  parentChangesMeanwhile(state);
  // The parent's state as it must be when runOnCopy settles: its own changes, none of the task's.
  const parentsOwn = stateToEdit();
  parentChangesMeanwhile(parentsOwn);
  return { state, parentsOwn: show(parentsOwn), outcome };
});

describe('runOnCopy()', () => {
  test('sends the state to the child and back with its types: Map, Set, Date, BigInt, Uint8Array, undefined', async () => {
    const { sent } = echoRun();
    const back = pick(await echoedState(), TYPED_KEYS);
    assert.equal(
      back,
      sent.typed,
      `the task returned its copy of the state unchanged, but that is not what was sent. ${JSON_HINT}\n` +
        `  sent: ${sent.typed}\n  back: ${back}`,
    );
  });

  test('runs the task in another process, which has ended when the promise settles', async () => {
    const { outcome } = echoRun();
    const what = 'a task that returns its pid';
    const answer = await succeeded(
      outcome.then(({ settled }) => settled),
      what,
    );
    const pid = answer?.result?.pid;
    assert.equal(
      typeof pid,
      'number',
      `the task returned { pid, state }; runOnCopy should resolve with { result: { pid, state }, changes }, but it gave ${show(answer)}.`,
    );
    assert.notEqual(
      pid,
      process.pid,
      `the task ran in this very process (pid ${process.pid}). runOnCopy must start a child process ` +
        `(child_process.fork) and run the task there, on a copy: in this process the task shares the parent's memory.`,
    );
    assert.ok(
      !(await outcome).aliveWhenSettled,
      `the child process (pid ${pid}) was still running when runOnCopy settled. Settle only once the child ` +
        `has ended (its 'close' event), and make sure nothing keeps it alive after it has answered: an IPC ` +
        `channel with a 'message' listener does, until it is disconnected (process.disconnect()).`,
    );
  });

  test("leaves the parent's state as it was: the task changed only its own copy", async () => {
    const { state, parentsOwn, outcome } = editRun();
    await succeeded(outcome, 'a task that edits its copy');
    assert.equal(
      show(state),
      parentsOwn,
      `the task's changes are in the parent's own map: a process never sees another's memory, and runOnCopy ` +
        `itself must not apply the changes (that is applyChanges' job).\n  expected: ${parentsOwn}\n` +
        `  got:      ${show(state)}`,
    );
  });

  test("takes the copy at the call: what the parent changes right after it is not in the child's copy", async () => {
    const { sent } = echoRun();
    const got = pick(await echoedState(), LATE_KEYS);
    assert.equal(
      got,
      sent.late,
      `the child's copy is not the state as it was when runOnCopy was called. ` +
        (got.includes('after the call')
          ? 'It holds changes the parent made after the call: the state was serialized later (after an await, ' +
            "on 'spawn', or when the child said it was ready). Send it before runOnCopy returns: child.send() " +
            'copies it at once, even before the child is running.'
          : JSON_HINT) +
        `\n  when called: ${sent.late}\n  child got:   ${got}`,
    );
  });

  test('reports exactly what the task did to its copy: keys added, replaced, changed in place, deleted', async () => {
    const { changes } = await succeeded(editRun().outcome, 'a task that edits its copy');
    const expected = [
      {
        type: 'set',
        key: 'added',
        value: { at: new Date(Date.UTC(2001, 0, 1)), big: 2n ** 70n, bytes: new Uint8Array([1, 2, 3]) },
      },
      { type: 'set', key: 'grown-in-place', value: new Set(['there before', 'added by the task']) },
      { type: 'set', key: 'moved-in-place', value: new Date(Date.UTC(2030, 0, 1)) },
      { type: 'delete', key: 'removed' },
      { type: 'set', key: 'replaced', value: 'new value' },
    ].map(show);
    assert.ok(Array.isArray(changes), `changes should be an array of changes, got ${show(changes)}.`);
    const got = changes.map(show);
    const missing = expected.filter((change) => !got.includes(change));
    const extra = got.filter((change) => !expected.includes(change));
    if (missing.length === 0 && extra.length === 0 && got.length === expected.length) return;
    const untouchedReported = extra.some((change) => /key: "(also-)?untouched"/.test(change));
    const inPlaceMissed = missing.some((change) => /key: "(moved|grown)-in-place"/.test(change));
    assert.fail(
      'the changes do not describe what the task did to its copy. ' +
        (untouchedReported
          ? 'They name keys the task never changed: report only the keys whose value differs from what arrived, ' +
            'or applying them undoes what the parent changed meanwhile. '
          : '') +
        (inPlaceMissed
          ? 'They miss values the task changed in place (a Date moved, a Set grown): compare with a DEEP copy ' +
            'of the state as it arrived (structuredClone), not a shallow new Map(state), whose values are the ' +
            'very objects the task changed. '
          : '') +
        'Compare values with util.isDeepStrictEqual, not ===.\n' +
        `  missing: ${missing.join('; ') || 'nothing'}\n  not expected: ${extra.join('; ') || 'nothing'}` +
        (got.length !== new Set(got).size ? '\n  (some changes are in the list more than once)' : ''),
    );
  });

  test("applying the changes merges the task's work with what the parent changed in the meantime", async () => {
    const { state, outcome } = editRun();
    const { changes } = await succeeded(outcome, 'a task that edits its copy');
    applyChanges(state, changes);
    const expected = new Map<string, unknown>([
      ['untouched', new Date(Date.UTC(1999, 11, 31))],
      ['also-untouched', new Set([1, 2])],
      ['replaced', 'new value'],
      ['moved-in-place', new Date(Date.UTC(2030, 0, 1))],
      ['grown-in-place', new Set(['there before', 'added by the task'])],
      ['added-by-the-parent', 'mine'],
      ['added', { at: new Date(Date.UTC(2001, 0, 1)), big: 2n ** 70n, bytes: new Uint8Array([1, 2, 3]) }],
    ]);
    const entries = (map: Map<unknown, unknown>): string => [...map].map(show).sort().join('\n');
    assert.equal(
      entries(state),
      entries(expected),
      `after applyChanges the parent's map should hold the task's changes AND the parent's own changes made ` +
        `meanwhile. ` +
        (show(state.get('untouched')) !== show(expected.get('untouched'))
          ? "The parent's new value of 'untouched', a key the task never changed, was overwritten with the old " +
            'one (a lost update): the changes must name only the keys the task changed, not the whole state it ' +
            'ended with.'
          : '') +
        `\n  expected: ${show(expected)}\n  got:      ${show(state)}`,
    );
  });

  test('rejects with the message of the error the task threw', async () => {
    const message = await failed(
      settle(() => runOnCopy(fixture('throws.js'), new Map([['a', 1]]))),
      'a task that throws',
      "Catch the task's error in the child and send its message back.",
    );
    assert.match(
      message,
      /the task failed on purpose/,
      `the rejection should carry the task's own message ("the task failed on purpose"); it said: ${message}`,
    );
  });

  test('rejects, naming the exit code, when the child ends without answering', async () => {
    const message = await failed(
      settle(() => runOnCopy(fixture('exits-without-answering.js'), new Map([['pid of the parent', process.pid]]))),
      'a task that calls process.exit(7)',
      "The child ended without sending anything: listen for its 'close' (or 'exit') event too, and reject " +
        'when it ends with no answer.',
    );
    assert.match(message, /\b7\b/, `the rejection should name the exit code, 7; it said: ${message}`);
  });

  test('rejects a state holding a function or a SharedArrayBuffer, and leaves no process running', async () => {
    const cases: [string, unknown][] = [
      ['a function', () => 'a function lives in one process only'],
      ['a SharedArrayBuffer', new SharedArrayBuffer(8)],
    ];
    for (const [what, value] of cases) {
      const state = new Map<string, unknown>([
        ['plain', 1],
        ['uncopyable', value],
      ]);
      const outcome = settle(() => runOnCopy<string, unknown, Echo>(fixture('returns-its-copy.js'), state));
      const settled = await within(
        outcome,
        WAIT_MS,
        `runOnCopy never settled for a state holding ${what}, which cannot be sent to another process.`,
      );
      if ('value' in settled) {
        assert.fail(
          `runOnCopy resolved for a state holding ${what}: the child received ${show(settled.value?.result?.state)}. ` +
            `Processes share no memory, so ${what} cannot be copied to another one; it must be a rejection, not ` +
            `silently dropped or turned into something else. ${JSON_HINT}`,
        );
      }
      const message = messageOf(settled.error);
      if (message.startsWith('Not implemented')) throw settled.error;
      assert.match(
        message,
        /cannot be copied to another process/,
        `for a state holding ${what}, the rejection should say it "cannot be copied to another process"; it said: ${message}`,
      );
      const left = liveChildren();
      if (left.length === 0) continue;
      assert.fail(
        `runOnCopy rejected a state holding ${what}, but left child process ${left.join(', ')} running, waiting for ` +
          'a message that will never come. If send() throws, end the child you started (child.kill()) and ' +
          'reject once it has gone, or check that the state can be copied before starting anything.',
      );
    }
  });

  test('rejects a result that cannot be copied back, instead of dropping what it cannot copy', async () => {
    const message = await failed(
      settle(() => runOnCopy(fixture('returns-a-function.js'), new Map([['a', 1]]))),
      'a task that returns { label, callback: () => … }',
      'In the child, catch the error process.send() throws for a result it cannot copy, and send that instead.',
    );
    assert.match(
      message,
      /cannot be copied to another process/,
      `the task's result holds a function, which cannot be copied back; the rejection should say it "cannot ` +
        `be copied to another process". It said: ${message}`,
    );
  });
});

describe('applyChanges()', () => {
  test('sets and deletes keys, in order, on the map it is given, and keeps every other key', () => {
    const state = new Map<Key, unknown>([
      ['kept', 'as it was'],
      ['deleted', 1],
      [2, 'two'],
    ]);
    const changes: Change<Key, unknown>[] = [
      { type: 'delete', key: 'deleted' },
      { type: 'set', key: 'set then deleted', value: 1 },
      { type: 'delete', key: 'set then deleted' },
      { type: 'delete', key: 'never there' },
      { type: 'set', key: 2, value: 'TWO' },
      { type: 'set', key: 3n, value: new Date(Date.UTC(2000, 0, 1)) },
      { type: 'set', key: 'twice', value: 'first' },
      { type: 'set', key: 'twice', value: 'second' },
    ];
    const returned = applyChanges(state, changes) as unknown;
    const expected = new Map<Key, unknown>([
      ['kept', 'as it was'],
      [2, 'TWO'],
      [3n, new Date(Date.UTC(2000, 0, 1))],
      ['twice', 'second'],
    ]);
    assert.equal(
      show(state),
      show(expected),
      `applyChanges must change the map it is given, in place, applying the changes in order.\n` +
        `  expected: ${show(expected)}\n  got:      ${show(state)}` +
        (returned instanceof Map ? ' (it returned a new map instead: the parent keeps using its own)' : ''),
    );
  });
});
