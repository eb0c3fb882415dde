/**
 * The worker side of tests/support/thread-team.ts, for fixture files (plain CommonJS):
 *
 *   const { joinTeam } = require('../../../support/team-member.js');
 *   joinTeam((task, { index, data }) => { ...work...; return result; });
 *
 * For every round the suite runs, `work` is called with this member's task once all members have
 * arrived at a spin gate, so they start at the same moment. What it returns (plain data) is the member's
 * result; what it throws fails the round with that error.
 */
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync, readlinkSync } = require('node:fs');

function joinTeam(work, { gate = true } = {}) {
  const { control, size, index } = workerData.team;
  const counters = new Int32Array(control); // [arrived, open round]
  const context = { index, size, data: workerData.data };
  parentPort.on('message', ({ round, task }) => {
    let reply;
    try {
      if (gate) {
        if (Atomics.add(counters, 0, 1) + 1 === size * round) Atomics.store(counters, 1, round);
        else while (Atomics.load(counters, 1) < round);
      }
      reply = { index, round, value: work(task, context) };
    } catch (error) {
      reply = { index, round, error: `thread ${index}: ${error instanceof Error ? error.message : String(error)}` };
    }
    parentPort.postMessage(reply);
  });
  parentPort.postMessage({ ready: true });
}

/** Fields of a thread's /proc stat line after its name: [0] the state, [11] and [12] user and system ticks. */
function statFields(file) {
  const stat = readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
const ticksToMs = (fields) => ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;

/**
 * CPU time this thread has used, in milliseconds (Linux: from /proc/thread-self/stat, 10 ms steps).
 * Elsewhere it falls back to the whole process's CPU time.
 */
function threadCpuMs() {
  try {
    return ticksToMs(statFields('/proc/thread-self/stat'));
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}

/** This thread's kernel id (Linux), or 0 where /proc/thread-self does not exist. */
function ownTid() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return 0;
  }
}

/**
 * What the kernel says about a thread of this process, given its id from ownTid(): `state` ('R' running or
 * ready to run, 'S' asleep, …) and `cpuMs`; undefined where /proc is missing or the thread is gone.
 */
function threadState(tid) {
  try {
    const fields = statFields(`/proc/self/task/${tid}/stat`);
    return { state: fields[0], cpuMs: ticksToMs(fields) };
  } catch {
    return undefined;
  }
}

const napCell = new Int32Array(new SharedArrayBuffer(4));
/** How much every deadline is stretched on this machine (see tests/support/deadline.ts). */
const TIME_SCALE = Math.max(1, Number(process.env.WORKBOOK_TIME_SCALE) || 1);

/** Blocks this thread for `ms` milliseconds, asleep (Atomics.wait on a cell nobody notifies). */
function sleep(ms) {
  Atomics.wait(napCell, 0, 0, ms);
}

/** Sleeps in 1 ms steps until `condition()` holds; throws `message` after `ms` (stretched by TIME_SCALE). */
function waitFor(condition, ms, message) {
  const giveUp = Date.now() + ms * TIME_SCALE;
  while (!condition()) {
    if (Date.now() > giveUp) throw new Error(message);
    sleep(1);
  }
}

/**
 * Waits until every thread in `tids` is asleep in the kernel (state S), for at most `ms`: then a lost
 * wake-up cannot be covered up by a thread that had not gone to sleep yet. Returns whether they all were.
 * Without /proc (a tid of 0) it just gives them 300 ms and returns false.
 */
function untilAsleep(tids, ms) {
  if (!tids.every((tid) => tid > 0)) {
    sleep(300);
    return false;
  }
  const giveUp = Date.now() + ms * TIME_SCALE;
  while (Date.now() < giveUp) {
    if (tids.every((tid) => threadState(tid)?.state === 'S')) return true;
    sleep(2);
  }
  return false;
}

module.exports = { joinTeam, threadCpuMs, ownTid, threadState, sleep, waitFor, untilAsleep, TIME_SCALE };
