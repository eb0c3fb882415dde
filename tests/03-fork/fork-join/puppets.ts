/**
 * The test side of the fork-join tests: a Unix domain socket server that every puppet child
 * (fixtures/puppet.js) connects to once it has its slice. Through it the test knows which slices' children
 * have started, with their pids, and decides when and how each one replies or ends. It also lists, from
 * the process table, the children of this process that run a fixture, so a child that was forked but has
 * not said hello yet (or never will) is seen too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitUntil } from '../../support/deadline';
import { isAlive, killAll } from '../../support/processes';

const FIXTURES = path.join(__dirname, 'fixtures');
/** The worker module the test controls: see fixtures/puppet.js. */
export const PUPPET = path.join(FIXTURES, 'puppet.js');
/** A worker module that sums the squares of a BigInt range exactly: see fixtures/sum-of-squares.js. */
export const SUM_OF_SQUARES = path.join(FIXTURES, 'sum-of-squares.js');

/** The slice a puppet child gets: where to say hello, and the name it says hello with. */
export interface PuppetSlice {
  socket: string;
  name: string;
}

/** A puppet child that has received its slice and said hello. */
export interface Arrival {
  name: string;
  pid: number;
  socket: net.Socket;
}

export class Puppets {
  /** Puppets that have said hello, in the order they did. */
  readonly arrivals: Arrival[] = [];
  #plan = new Map<string, string>();

  private constructor(
    readonly dir: string,
    readonly socketPath: string,
    private readonly server: net.Server,
  ) {
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async open(): Promise<Puppets> {
    const dir = await mkdtemp(path.join(tmpdir(), 'fork-join-'));
    const socketPath = path.join(dir, 'puppets.sock');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return new Puppets(dir, socketPath, server);
  }

  /** One slice per name, for forkJoin(PUPPET, slices). */
  slices(names: string[]): PuppetSlice[] {
    return names.map((name) => ({ socket: this.socketPath, name }));
  }

  /** Gives each named puppet its instruction ("result <json>", "exit 3", …) as soon as it says hello. */
  autopilot(plan: Record<string, string>): void {
    for (const [name, instruction] of Object.entries(plan)) this.#plan.set(name, instruction);
  }

  arrival(name: string): Arrival {
    const found = this.arrivals.find((arrival) => arrival.name === name);
    if (!found) throw new Error(`the child of slice ${name} has not said hello`);
    return found;
  }

  /** Tells the puppet `name` what to do: "result <json>", "error <text>" or "exit <code>". */
  tell(name: string, instruction: string): void {
    this.arrival(name).socket.write(`${instruction}\n`);
  }

  /** Kills every puppet of this test (and any other fixture child left behind), then cleans up. */
  async close(): Promise<void> {
    const pids = [...this.arrivals.map((arrival) => arrival.pid), ...fixtureChildren()];
    killAll(pids);
    // Wait until they are gone, so that the next test does not see this test's children.
    await waitUntil(
      () => pids.every((pid) => !isAlive(pid)),
      5000,
      `clean-up: children ${pids.join(', ')} did not die after SIGKILL.`,
    ).catch(() => undefined);
    for (const arrival of this.arrivals) arrival.socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }

  #accept(socket: net.Socket): void {
    socket.setEncoding('utf8');
    let received = '';
    let arrived = false;
    socket.on('data', (chunk: string) => {
      if (arrived) return;
      received += chunk;
      const end = received.indexOf('\n');
      if (end === -1) return;
      arrived = true;
      // "<name> <pid>": the name may contain spaces, the pid is after the last one.
      const line = received.slice(0, end);
      const space = line.lastIndexOf(' ');
      const name = line.slice(0, space);
      const pid = Number(line.slice(space + 1));
      if (!Number.isInteger(pid) || pid <= 0) return; // never signal a pid we did not read correctly
      this.arrivals.push({ name, pid, socket });
      const planned = this.#plan.get(name);
      if (planned !== undefined) socket.write(`${planned}\n`);
    });
    socket.on('error', () => {});
  }
}

/**
 * Pids of the children of this process that run one of this suite's fixtures and are alive (a zombie,
 * dead but not yet reaped, does not count). forkJoin runs in this process, so its children are ours.
 */
export function fixtureChildren(): number[] {
  return processTable()
    .filter((row) => row.ppid === process.pid && row.state !== 'Z' && row.command.includes(FIXTURES))
    .map((row) => row.pid);
}

interface ProcessRow {
  pid: number;
  ppid: number;
  state: string;
  command: string;
}

function processTable(): ProcessRow[] {
  if (existsSync('/proc/self/stat')) {
    const rows: ProcessRow[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the parenthesised command name: state, ppid, …
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(ppid) !== process.pid) continue;
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
        rows.push({ pid: Number(entry), ppid: Number(ppid), state: state!, command });
      } catch {
        // The process ended while we looked.
      }
    }
    return rows;
  }
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), state: match[3]![0]!, command: match[4]! }));
}
