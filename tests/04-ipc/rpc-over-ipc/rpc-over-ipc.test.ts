import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import util from 'node:util';
import { RpcClient, type RpcClientOptions } from '@target/04-ipc/rpc-over-ipc';
import { inWords, scaled } from '../../support/deadline';

/*
 * How these tests force orderings: the client tests talk to fixtures/rpc-server.js, a hand-written peer whose
 * `wait(key)` is answered only when the test calls `release({ key })`, and whose `gather` answers nothing until
 * all the gather requests it expects have arrived. The IPC channel keeps messages in order in each direction,
 * so when the response to `release` arrives, the response it released (sent just before it) has arrived too.
 * The serve() tests run the graded serve() in fixtures/serve-handlers.js and speak the wire format to it
 * directly. Deadlines below only turn "never happened" into a clear failure.
 */

const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);
/** The graded module's file, for the child that runs the graded serve(). */
const gradedModule = require.resolve('@target/04-ipc/rpc-over-ipc');
/** A timeout the tests never wait out: a call with it that settles did so for another reason. */
const LONG = { timeoutMs: 60_000 };
/** How long something that should happen at once may take before the test calls it "never". */
const PROMPTLY_MS = 5000;
// A test that finds a call still pending waits PROMPTLY_MS before it fails; leave room for that on a busy machine.
// Every wait below (settledWithin, until) is stretched on a machine with less CPU, and so is this limit.
jest.setTimeout(scaled(20_000));
/** How long PROMPTLY_MS and 8 s really are on this machine, for messages. */
const promptly = inWords(scaled(PROMPTLY_MS));
const eightSeconds = inWords(scaled(8000));

interface Peer {
  child: ChildProcess;
  /** Everything the peer has written to stderr so far. */
  stderr: () => string;
  /** Settles when the peer process has exited. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const peers: Peer[] = [];
const clients: RpcClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) {
    try {
      client.close();
    } catch {
      // The test has already failed or passed; only clean up.
    }
  }
  for (const { child } of peers.splice(0)) {
    if (isRunning(child)) child.kill('SIGKILL');
  }
});

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts a fixture with an IPC channel, its stderr kept for failure messages. */
function forkPeer(file: string, args: string[] = []): Peer {
  const child = fork(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, ended };
}

/** Starts a fixture for this test only: it is killed after the test if it still runs. */
function startPeer(file: string): Peer {
  const peer = forkPeer(file);
  peers.push(peer);
  return peer;
}

/** Starts fixtures/rpc-server.js and an RpcClient for it. */
function startClient(options?: RpcClientOptions): { peer: Peer; client: RpcClient } {
  const peer = startPeer(fixture('rpc-server.js'));
  const client = new RpcClient(peer.child, options);
  clients.push(client);
  return { peer, client };
}

/** What the test's peer printed (it explains why it gave up on a request), to add to a failure message. */
function peerSaid(peer: Peer): string {
  const said = peer.stderr().trim();
  return said ? `\nThe test's peer process wrote on stderr:\n${said}` : '';
}

type Outcome = { status: 'resolved'; value: unknown } | { status: 'rejected'; reason: unknown };

interface Watched {
  /** Settles with how the call settled; never rejects. */
  outcome: Promise<Outcome>;
  /** How the call has settled so far, if it has. */
  now: () => Outcome | undefined;
}

/**
 * Makes a call and watches how it settles. A handler is attached at once, so a rejection is never left
 * unhandled, even for a moment (a call that throws instead of rejecting counts as rejected).
 */
function watch(makeCall: () => Promise<unknown>): Watched {
  let promise: Promise<unknown>;
  try {
    promise = Promise.resolve(makeCall());
  } catch (error) {
    promise = Promise.reject(error);
  }
  let settled: Outcome | undefined;
  const outcome = promise.then(
    (value): Outcome => (settled = { status: 'resolved', value }),
    (reason: unknown): Outcome => (settled = { status: 'rejected', reason }),
  );
  return { outcome, now: () => settled };
}

/** `promise`'s value, or undefined if it has not settled within `ms` (stretched on a slower machine). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, scaled(ms), undefined);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `condition` holds, or `ms` (stretched on a slower machine) have passed; says which. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const giveUp = Date.now() + scaled(ms);
  while (!condition()) {
    if (Date.now() > giveUp) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * A copy of `value` made of this realm's objects. Messages from the IPC channel are built by Node outside
 * the test's realm, so strict deep equality would fail on their prototypes alone; compare plain copies.
 */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Strict deep equality of two JSON-like values, whichever realm built them. */
function assertSame(actual: unknown, expected: unknown, message: string): void {
  assert.deepEqual(plain(actual), plain(expected), message);
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

function codeOf(reason: unknown): unknown {
  return typeof reason === 'object' && reason !== null ? (reason as { code?: unknown }).code : undefined;
}

function messageOf(reason: unknown): string {
  if (typeof reason === 'object' && reason !== null && typeof (reason as Error).message === 'string') {
    return (reason as Error).message;
  }
  return String(reason);
}

function describeOutcome(outcome: Outcome | undefined): string {
  if (!outcome) return 'was still pending';
  if (outcome.status === 'resolved') return `resolved with ${show(outcome.value)}`;
  const code = codeOf(outcome.reason);
  return `rejected with ${code === undefined ? 'an error with no code' : `code ${show(code)}`}: "${messageOf(outcome.reason)}"`;
}

/** Asserts that a call resolved with `expected`. */
function assertResolved(outcome: Outcome | undefined, expected: unknown, call: string, why = ''): void {
  assert.ok(
    outcome?.status === 'resolved',
    `${call} ${describeOutcome(outcome)}; it should resolve with ${show(expected)}.${why}`,
  );
  assertSame(
    outcome.value,
    expected,
    `${call} resolved with ${show(outcome.value)}, expected ${show(expected)}.${why}`,
  );
}

/** Asserts that a call was rejected with an error whose code is `code`; returns its message. */
function assertRejected(outcome: Outcome | undefined, code: string, call: string, why: string): string {
  assert.ok(
    outcome?.status === 'rejected' && codeOf(outcome.reason) === code,
    `${call} ${describeOutcome(outcome)}; it should be rejected with an RpcError whose code is '${code}'. ${why}`,
  );
  return messageOf(outcome.reason);
}

/** Number of timers currently keeping this process alive. */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

const CHILD_EVENTS = ['message', 'exit', 'close', 'disconnect', 'error', 'spawn'] as const;

/** The listeners on `child` now, by event. */
function listenersOf(child: ChildProcess): Map<string, Set<unknown>> {
  return new Map(CHILD_EVENTS.map((event) => [event, new Set(child.listeners(event))]));
}

describe('RpcClient', () => {
  test('resolves a call with its result and rejects it with the remote error’s message', async () => {
    const { peer, client } = startClient();
    const params = { name: 'Zoë', list: [1, 'two', null, { deep: true }] };
    const calls = {
      echo: watch(() => client.call('echo', params, LONG)),
      text: watch(() => client.call('echo', 'just text', LONG)),
      nothing: watch(() => client.call('nothing', undefined, LONG)),
      fail: watch(() => client.call('fail', 'disk full: /var is at 100%', LONG)),
    };
    const all = await settledWithin(Promise.all(Object.values(calls).map((call) => call.outcome)), 8000);
    assert.ok(
      all,
      `four calls made at once did not all settle within ${eightSeconds} (echo ${describeOutcome(calls.echo.now())}, ` +
        `nothing ${describeOutcome(calls.nothing.now())}, fail ${describeOutcome(calls.fail.now())}). Each call sends ` +
        `{ type: 'request', id, method, params } with child.send, and settles when the response with its id ` +
        `arrives on the child's 'message' event.${peerSaid(peer)}`,
    );
    assertResolved(calls.echo.now(), params, `call('echo', ${show(params)})`, peerSaid(peer));
    assertResolved(calls.text.now(), 'just text', `call('echo', "just text")`);
    assertResolved(
      calls.nothing.now(),
      undefined,
      `call('nothing')`,
      ' Its response { type: "response", id, ok: true } has no result field at all (JSON drops undefined).',
    );
    const message = assertRejected(
      calls.fail.now(),
      'REMOTE',
      `call('fail', "disk full: /var is at 100%")`,
      `The peer answered { type: 'response', id, ok: false, error: { message: 'disk full: /var is at 100%' } }.`,
    );
    assert.equal(
      message,
      'disk full: /var is at 100%',
      `the rejection for an error response must carry the remote message exactly; it said "${message}".`,
    );
    const after = await settledWithin(watch(() => client.call('echo', 'still working', LONG)).outcome, 8000);
    assertResolved(after, 'still working', `call('echo', "still working"), made after an error response,`);
  });

  test('matches each response to its call by id, whatever order the responses come in', async () => {
    const { peer, client } = startClient();
    const a = watch(() => client.call('wait', 'a', LONG));
    const b = watch(() => client.call('wait', 'b', LONG));
    const releaseB = await settledWithin(
      watch(() => client.call('release', { key: 'b', value: 'answer for b' }, LONG)).outcome,
      PROMPTLY_MS,
    );
    // The peer sends wait('b')'s response, then release's: when release's has arrived, both have.
    assert.equal(
      a.now(),
      undefined,
      `wait('a') ${describeOutcome(a.now())} before the test released it. The peer had answered only wait('b') and ` +
        `release('b') (in that order), so wait('a') took a response meant for another call. Responses come ` +
        `back in any order: settle the call whose id the response carries (keep pending calls in a Map by ` +
        `id), not the oldest pending call.`,
    );
    assert.ok(
      releaseB,
      `call('release', { key: 'b' }), made while wait('a') and wait('b') were pending, did not settle within ` +
        `${promptly} (wait('b') ${describeOutcome(b.now())}). Each call must send its request at once, ` +
        `even while earlier calls wait for their responses.${peerSaid(peer)}`,
    );
    assertResolved(
      b.now(),
      'answer for b',
      `wait('b'), whose response had arrived,`,
      ' Match each response to its call by the id it carries.',
    );
    assertResolved(releaseB, true, `release('b')`);
    await settledWithin(watch(() => client.call('release', { key: 'a', value: 'answer for a' }, LONG)).outcome, 8000);
    assertResolved(await settledWithin(a.outcome, PROMPTLY_MS), 'answer for a', `wait('a'), once released,`);
  });

  test('has all its calls in flight at once: the peer gets every request before answering any', async () => {
    const { peer, client } = startClient();
    const tags = ['x', 'y', 'z'];
    const calls = tags.map((tag) => watch(() => client.call('gather', { count: 3, tag }, LONG)));
    const all = await settledWithin(Promise.all(calls.map((call) => call.outcome)), PROMPTLY_MS);
    assert.ok(
      all,
      `three gather calls made one after the other, at once, did not settle within ${promptly}. The ` +
        `peer answers none of them until all three requests have arrived, so a client that waits for one ` +
        `call's response before it sends the next request never gets any. call() must send its request ` +
        `immediately, whatever else is pending.${peerSaid(peer)}`,
    );
    tags.forEach((tag, index) =>
      assertResolved(
        all[index],
        { tag, together: 3 },
        `gather({ tag: '${tag}' })`,
        ' The peer answered the three in reverse order (z, y, x); each call must get the response with its own id.',
      ),
    );
  });

  test('rejects a call that gets no response in time, only that call, and its late response settles nothing', async () => {
    const { peer, client } = startClient({ timeoutMs: 150 });
    const a = watch(() => client.call('wait', 'a'));
    const b = watch(() => client.call('wait', 'b', LONG));
    const outcomeA = await settledWithin(a.outcome, PROMPTLY_MS);
    const message = assertRejected(
      outcomeA,
      'TIMEOUT',
      `call('wait', 'a') on a client created with { timeoutMs: 150 }, never answered,`,
      `No response came, so it must fail when its timeout ends (the client's timeoutMs, as the call set none), ` +
        `not wait for ever: start a timer for each call and reject the call when it fires.` +
        (outcomeA ? '' : ` It was still pending ${promptly} later.`) +
        peerSaid(peer),
    );
    assert.ok(
      message.includes('wait') && message.includes('150'),
      `the timeout error should name the method ('wait') and the timeout (150 ms); it said "${message}".`,
    );
    assert.equal(
      b.now(),
      undefined,
      `when wait('a') timed out, wait('b') (its own timeout: 60 s) ${describeOutcome(b.now())}. A timeout belongs to ` +
        `one call: reject that call alone and leave the others pending.`,
    );
    // Now the late response to 'a' arrives, before the response to this release call.
    const releasedA = await settledWithin(
      watch(() => client.call('release', { key: 'a', value: 'late answer for a' }, LONG)).outcome,
      PROMPTLY_MS,
    );
    assertResolved(releasedA, true, `release('a')`, peerSaid(peer));
    assert.equal(
      b.now(),
      undefined,
      `the late response to the timed-out wait('a') settled wait('b'): it ${describeOutcome(b.now())}. A response ` +
        `whose call has already timed out must be ignored; only a response with its own id settles a call.`,
    );
    await settledWithin(watch(() => client.call('release', { key: 'b', value: 'answer for b' }, LONG)).outcome, 8000);
    assertResolved(await settledWithin(b.outcome, PROMPTLY_MS), 'answer for b', `wait('b'), once released,`);
  });

  test('rejects every pending call at once when the peer is killed, naming the signal, and every later call', async () => {
    const { peer, client } = startClient();
    assertResolved(
      await settledWithin(watch(() => client.call('echo', 'up', LONG)).outcome, 8000),
      'up',
      `call('echo', 'up')`,
      peerSaid(peer),
    );
    const calls = ['a', 'b', 'c'].map((key) => watch(() => client.call('wait', key, LONG)));
    peer.child.kill('SIGKILL');
    await settledWithin(peer.ended, 8000);
    const all = await settledWithin(Promise.all(calls.map((call) => call.outcome)), PROMPTLY_MS);
    const stillPending = calls.filter((call) => call.now() === undefined).length;
    assert.ok(
      all,
      `${promptly} after the peer was killed with SIGKILL, ${stillPending} of the 3 calls pending on ` +
        `it were still waiting (their timeouts are 60 s). A dead peer will never answer: listen for the ` +
        `child's 'exit' event and reject every pending call then, instead of letting each wait out its timeout ` +
        `— or for ever.`,
    );
    all.forEach((outcome, index) => {
      const message = assertRejected(
        outcome,
        'PEER_EXITED',
        `wait('${'abc'[index]}'), pending when the peer was killed,`,
        'The peer process died before it answered.',
      );
      assert.match(
        message,
        /SIGKILL/,
        `the error for a call whose peer was killed should name the signal (SIGKILL, the second argument of ` +
          `'exit'); it said "${message}".`,
      );
    });
    const later = await settledWithin(watch(() => client.call('echo', 'anyone there?', LONG)).outcome, PROMPTLY_MS);
    const message = assertRejected(
      later,
      'PEER_EXITED',
      `call('echo'), made after the peer had died,`,
      `It must fail at once, without sending anything: remember that the peer has exited, and how.` +
        (later ? '' : ` It was still pending ${promptly} later, waiting for its 60 s timeout.`),
    );
    assert.match(
      message,
      /SIGKILL/,
      `the error for a call made after the peer was killed should name SIGKILL; it said "${message}".`,
    );
  });

  test('rejects the pending calls when the peer exits by itself, naming its exit code', async () => {
    const { peer, client } = startClient();
    const waiting = watch(() => client.call('wait', 'a', LONG));
    const exiting = watch(() => client.call('exit', 3, LONG));
    const ended = await settledWithin(peer.ended, 8000);
    assert.deepEqual(ended, { code: 3, signal: null }, `the peer should have exited with code 3.${peerSaid(peer)}`);
    const all = await settledWithin(Promise.all([waiting.outcome, exiting.outcome]), PROMPTLY_MS);
    assert.ok(
      all,
      `${promptly} after the peer exited with code 3, wait('a') ${describeOutcome(waiting.now())} and ` +
        `exit(3) ${describeOutcome(exiting.now())} (their timeouts are 60 s). When the child exits, reject every ` +
        `pending call at once.`,
    );
    for (const [call, outcome] of [
      [`wait('a')`, all[0]],
      [`exit(3)`, all[1]],
    ] as const) {
      const message = assertRejected(
        outcome,
        'PEER_EXITED',
        `${call}, pending when the peer exited with code 3,`,
        'The peer exited before it answered.',
      );
      assert.match(
        message,
        /\b3\b/,
        `the error for a call whose peer exited should name the exit code (3); it said "${message}".`,
      );
    }
  });

  test('reports malformed responses and unknown ids, and ignores them: no crash, no call settled by them', async () => {
    const reports: { error: unknown; message: unknown }[] = [];
    const { peer, client } = startClient({ onProtocolError: (error, message) => reports.push({ error, message }) });
    const a = watch(() => client.call('wait', 'a', LONG));
    const misbehaved = await settledWithin(watch(() => client.call('misbehave', undefined, LONG)).outcome, PROMPTLY_MS);
    assert.ok(
      misbehaved?.status === 'resolved',
      `call('misbehave') ${describeOutcome(misbehaved)}: it should resolve with the list of invalid messages the peer ` +
        `sent before its response.${peerSaid(peer)}`,
    );
    const { sent } = misbehaved.value as { sent: unknown[] };
    assert.equal(
      a.now(),
      undefined,
      `wait('a') ${describeOutcome(a.now())}, but the peer never answered it: only invalid messages carried its id. ` +
        `Check every message against the wire format (with zod: safeParse) before acting on it, and act only ` +
        `on a valid { type: 'response', id, ok: true, result } or { type: 'response', id, ok: false, ` +
        `error: { message } } whose id is pending. These were sent:\n${sent.map(show).join('\n')}`,
    );
    const notReported = sent.filter(
      (message) => !reports.some((report) => util.isDeepStrictEqual(plain(report.message), plain(message))),
    );
    assertSame(
      notReported,
      [],
      `onProtocolError was not called for ${notReported.length} of the ${sent.length} invalid messages the peer ` +
        `sent:\n${notReported.map(show).join('\n')}\nReport every message that is not a valid response, or ` +
        `whose id matches no pending call, with onProtocolError(error, message) — the message exactly as received.`,
    );
    assert.equal(
      reports.length,
      sent.length,
      `onProtocolError was called ${reports.length} times for ${sent.length} invalid messages; call it once for ` +
        `each (and never for a valid response to a pending call).`,
    );
    for (const { error } of reports) {
      assert.ok(
        error instanceof Error && error.message.length > 0,
        `onProtocolError's first argument should be an Error saying what is wrong; got ${show(error)}.`,
      );
    }
    await settledWithin(watch(() => client.call('release', { key: 'a', value: 'answer for a' }, LONG)).outcome, 8000);
    assertResolved(await settledWithin(a.outcome, PROMPTLY_MS), 'answer for a', `wait('a'), once released,`);
  });

  test('clears a call’s timer as soon as the call settles', async () => {
    const { peer, client } = startClient();
    const before = activeTimers();
    const calls = [
      watch(() => client.call('echo', 1, LONG)),
      watch(() => client.call('fail', 'no', LONG)),
      watch(() => client.call('echo', 2)),
    ];
    const all = await settledWithin(Promise.all(calls.map((call) => call.outcome)), 8000);
    assert.ok(all, `three calls to a working peer did not settle within ${eightSeconds}.${peerSaid(peer)}`);
    const after = activeTimers();
    assert.ok(
      after <= before,
      `after 3 calls had settled (2 resolved, 1 rejected by an error response), ${after - before} more timer(s) ` +
        `were active than before the calls. A call's timeout timer must be cleared (clearTimeout) the moment the ` +
        `call settles: left running, it keeps the process alive for the whole timeout (60 s here) and then ` +
        `fires for a call that is long over.`,
    );
  });

  test('close() rejects the pending calls and leaves no timer, listener or open channel behind', async () => {
    const peer = startPeer(fixture('rpc-server.js'));
    const listenersBefore = listenersOf(peer.child);
    const timersBefore = activeTimers();
    const client = new RpcClient(peer.child);
    clients.push(client);
    assertResolved(
      await settledWithin(watch(() => client.call('echo', 'up', LONG)).outcome, 8000),
      'up',
      `call('echo', 'up')`,
      peerSaid(peer),
    );
    const pending = watch(() => client.call('wait', 'a', LONG));
    assert.doesNotThrow(() => client.close(), 'close() threw.');
    assert.doesNotThrow(() => client.close(), 'close() threw when called a second time; it should do nothing.');
    const outcome = await settledWithin(pending.outcome, PROMPTLY_MS);
    assertRejected(
      outcome,
      'CLOSED',
      `wait('a'), pending when close() was called,`,
      'close() must reject every pending call: no response can reach it any more.' +
        (outcome ? '' : ` It was still pending ${promptly} later.`),
    );
    const later = await settledWithin(watch(() => client.call('echo', 'after close', LONG)).outcome, PROMPTLY_MS);
    assertRejected(later, 'CLOSED', `call('echo'), made after close(),`, 'It must fail at once, sending nothing.');
    const timersAfter = activeTimers();
    assert.ok(
      timersAfter <= timersBefore,
      `after close(), ${timersAfter - timersBefore} more timer(s) were active than before the client was created. ` +
        'close() must clear the timer of every call it rejects; a timer left running keeps the process alive.',
    );
    const listenersAfter = listenersOf(peer.child);
    const added = CHILD_EVENTS.filter((event) =>
      [...listenersAfter.get(event)!].some((listener) => !listenersBefore.get(event)!.has(listener)),
    );
    assert.deepEqual(
      added,
      [],
      `after close(), the client still had listeners on the child's ${added.map(show).join(', ')} event(s). ` +
        'close() must remove every listener it added (child.off(event, listener)), so the client can be ' +
        'garbage-collected and never acts on that child again.',
    );
    assert.equal(
      peer.child.connected,
      false,
      'after close(), the IPC channel to the child was still connected. close() must disconnect it ' +
        '(child.disconnect(), if child.connected is still true): an open channel keeps both processes alive.',
    );
    const ended = await settledWithin(peer.ended, PROMPTLY_MS);
    assert.ok(
      ended,
      `the peer did not exit within ${promptly} of close(). A child whose IPC channel is closed ` +
        'exits by itself once it has nothing else to do; this one still had its channel open.',
    );
  });
});

interface Server extends Peer {
  /** Every message the server has sent, in order. */
  received: unknown[];
  /** Sends one message to the server (errors from a closed channel are ignored). */
  send: (message: unknown) => void;
}

/**
 * The child running the graded serve(), shared by the serve() tests to save its start-up (it loads
 * TypeScript and zod): a test gets the same one only if the test before it finished and it is still
 * running. Each test uses request ids of its own.
 */
let shared: { server: Server; reusable: boolean } | undefined;

function serverForThisTest(): Server {
  if (shared?.reusable && isRunning(shared.server.child)) {
    shared.reusable = false;
    return shared.server;
  }
  if (shared && isRunning(shared.server.child)) shared.server.child.kill('SIGKILL');
  const peer = forkPeer(fixture('serve-handlers.js'), [gradedModule]);
  const received: unknown[] = [];
  peer.child.on('message', (message: unknown) => received.push(message));
  const send = (message: unknown): void => {
    if (peer.child.connected) peer.child.send(message as object, () => {});
  };
  shared = { server: { ...peer, received, send }, reusable: false };
  return shared.server;
}

/** Called at the end of a serve() test that passed: the next test may use the same server. */
function serverMayBeReused(): void {
  if (shared) shared.reusable = true;
}

afterAll(() => {
  if (shared && isRunning(shared.server.child)) shared.server.child.kill('SIGKILL');
});

const request = (id: number, method: string, params?: unknown): object =>
  params === undefined ? { type: 'request', id, method } : { type: 'request', id, method, params };

const idOf = (message: unknown): unknown =>
  typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;

/** What the server process has done, for a failure message: still running, or how it ended, and its stderr. */
function serverState(server: Server): string {
  const { exitCode, signalCode } = server.child;
  const state =
    exitCode === null && signalCode === null
      ? 'The server process is still running.'
      : `The server process has ended (${signalCode ? `killed by ${signalCode}` : `exit code ${exitCode}`}): ` +
        `an exception nothing caught ended it.`;
  const stderr = server.stderr().trim();
  return `${state}${stderr ? ` Its stderr:\n${stderr}` : ''}`;
}

/** Waits until the server has sent a response for each of `ids` (or has died); returns them by id. */
async function responsesTo(server: Server, ids: number[], what: string): Promise<Map<number, unknown>> {
  const find = (id: number): unknown => server.received.find((message) => idOf(message) === id);
  const dead = (): boolean => server.child.exitCode !== null || server.child.signalCode !== null;
  await until(() => ids.every((id) => find(id) !== undefined) || dead(), PROMPTLY_MS);
  const missing = ids.filter((id) => find(id) === undefined);
  assert.deepEqual(
    missing,
    [],
    `serve() sent no response for the request(s) with id ${missing.join(', ')} (${what}) within ` +
      `${promptly}. ${serverState(server)}`,
  );
  return new Map(ids.map((id) => [id, find(id)]));
}

describe('serve()', () => {
  test('answers each request under its id with its handler’s result, or with the error it threw', async () => {
    const server = serverForThisTest();
    const data = { list: [1, 'two', null], nested: { ok: true } };
    server.send(request(7, 'echo', data));
    server.send(request(3, 'add', { a: 2, b: 40 }));
    server.send(request(1000, 'nothing'));
    server.send(request(12, 'fail', 'no such file: notes.txt'));
    server.send(request(13, 'failLater', 'the database went away'));
    server.send(request(14, 'launchRockets', { count: 3 }));
    server.send(request(15, 'constructor', 'not a handler'));
    server.send(request(16, 'bigint'));
    server.send(request(17, 'echo', 'last'));
    const responses = await responsesTo(
      server,
      [7, 3, 1000, 12, 13, 14, 15, 16, 17],
      'echo, add, nothing, fail, failLater, launchRockets, constructor, bigint and echo',
    );
    const expectOk = (id: number, call: string, result: unknown, why = ''): void =>
      assertSame(
        responses.get(id),
        result === undefined ? { type: 'response', id, ok: true } : { type: 'response', id, ok: true, result },
        `the response to ${call} (request id ${id}) should be ${show(
          result === undefined ? { type: 'response', id, ok: true } : { type: 'response', id, ok: true, result },
        )}; it was ${show(responses.get(id))}.${why}`,
      );
    expectOk(7, `echo(${show(data)})`, data);
    expectOk(3, 'add({ a: 2, b: 40 }), an async handler,', 42, ' Await what the handler returns.');
    expectOk(1000, 'nothing(), whose handler returns undefined,', undefined);
    expectOk(17, `echo("last")`, 'last');
    const expectError = (id: number, call: string, message: string, why: string): void =>
      assertSame(
        responses.get(id),
        { type: 'response', id, ok: false, error: { message } },
        `the response to ${call} (request id ${id}) should be ${show({ type: 'response', id, ok: false, error: { message } })}; ` +
          `it was ${show(responses.get(id))}. ${why}`,
      );
    expectError(
      12,
      `fail(), a handler that throws,`,
      'no such file: notes.txt',
      'Send the thrown error’s message back.',
    );
    expectError(
      13,
      `failLater(), a handler whose promise rejects,`,
      'the database went away',
      'Send the rejection’s message back.',
    );
    expectError(
      14,
      `launchRockets(), a method with no handler,`,
      'unknown method "launchRockets"',
      'A method with no handler gets an error response.',
    );
    expectError(
      15,
      `constructor(), which is no handler of its own (only inherited from Object.prototype),`,
      'unknown method "constructor"',
      'The method name comes from the other process: look it up only among the handlers’ own properties ' +
        '(Object.hasOwn), never call what a plain object inherits.',
    );
    const bigint = responses.get(16) as { ok?: unknown; error?: { message?: unknown } } | undefined;
    assert.ok(
      bigint?.ok === false && typeof bigint.error?.message === 'string',
      `the response to bigint(), whose result (10n) JSON cannot carry, should be an error response ` +
        `{ type: 'response', id: 16, ok: false, error: { message } }; it was ${show(bigint)}. process.send ` +
        `throws for such a result: catch that and answer with its message.`,
    );
    serverMayBeReused();
  });

  test('handles requests concurrently and answers each as soon as its handler is done', async () => {
    const server = serverForThisTest();
    server.send(request(21, 'wait', 'a'));
    server.send(request(22, 'wait', 'b'));
    server.send(request(23, 'release', { key: 'b', value: 'answer for b' }));
    const early = await responsesTo(
      server,
      [22, 23],
      "wait('b') and release('b'), sent while wait('a') was still running. serve() must start each handler as " +
        'soon as its request arrives and answer it as soon as it is done, without waiting for earlier handlers',
    );
    assert.equal(
      server.received.some((message) => idOf(message) === 21),
      false,
      `serve() answered wait('a') before anything released it: ${show(server.received.find((message) => idOf(message) === 21))}.`,
    );
    assertSame(
      early.get(22),
      { type: 'response', id: 22, ok: true, result: 'answer for b' },
      `the response to wait('b') was ${show(early.get(22))}.`,
    );
    server.send(request(24, 'release', { key: 'a', value: 'answer for a' }));
    const late = await responsesTo(server, [21, 24], "wait('a') and release('a')");
    assertSame(
      late.get(21),
      { type: 'response', id: 21, ok: true, result: 'answer for a' },
      `the response to wait('a') was ${show(late.get(21))}.`,
    );
    serverMayBeReused();
  });

  test('ignores malformed requests without answering or crashing, and keeps serving', async () => {
    const server = serverForThisTest();
    const from = server.received.length;
    const malformed = [
      'not a request',
      42,
      null,
      [],
      {},
      { type: 'request' },
      { type: 'request', id: '5', method: 'echo', params: 'id is a string' },
      { type: 'request', id: 6.5, method: 'echo', params: 'id is not an integer' },
      { type: 'request', id: -7, method: 'echo', params: 'id is negative' },
      { type: 'request', id: 8, method: 42, params: 'method is not a string' },
      { type: 'request', id: 9, params: 'no method' },
      { type: 'response', id: 10, method: 'echo', params: 'type is not request' },
      { id: 11, method: 'echo', params: 'no type' },
    ];
    for (const message of malformed) server.send(message);
    server.send(request(100, 'echo', 'still serving'));
    const responses = await responsesTo(
      server,
      [100],
      `echo("still serving"), sent after ${malformed.length} malformed requests`,
    );
    assertSame(
      responses.get(100),
      { type: 'response', id: 100, ok: true, result: 'still serving' },
      `the response to echo("still serving") was ${show(responses.get(100))}.`,
    );
    const answered = server.received.slice(from).filter((message) => idOf(message) !== 100);
    assertSame(
      answered,
      [],
      `serve() answered malformed requests: ${answered.map(show).join(', ')}. A message that is not a valid ` +
        `{ type: 'request', id, method, params } (id a non-negative integer, method a string) gets no response ` +
        `at all: check it with zod (safeParse) and ignore it.`,
    );
    serverMayBeReused();
  });
});
