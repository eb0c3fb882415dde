/**
 * The test side of the pool tests' rendezvous: a Unix domain socket server that every job
 * (fixtures/job.js) connects to. Through it the test knows which jobs have started, and it decides when
 * and how each one ends. It also counts the job processes that are alive, straight from the process
 * table, so a job that was started but has not connected yet is counted too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inWords, scaled, waitUntil } from '../../support/deadline';
import { killAll } from '../../support/processes';

const JOB_PROGRAM = path.join(__dirname, 'fixtures', 'job.js');

/** A job that has started and said hello. */
export interface Arrival {
  name: string;
  pid: number;
  /** True once the job's connection has closed: its process has exited. */
  ended: boolean;
  /** True once the test has told the job how to end. */
  released: boolean;
  socket: net.Socket;
}

export class Rendezvous {
  /** Jobs that have connected, in the order they connected. */
  readonly arrivals: Arrival[] = [];
  /** The most job processes seen alive at once (counted each time a job connects, and at each check). */
  peak = 0;
  #plan = new Map<string, string>();

  private constructor(
    readonly dir: string,
    readonly socketPath: string,
    private readonly server: net.Server,
  ) {
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async open(): Promise<Rendezvous> {
    const dir = await mkdtemp(path.join(tmpdir(), 'process-pool-'));
    const socketPath = path.join(dir, 'rendezvous.sock');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return new Rendezvous(dir, socketPath, server);
  }

  /** A job that runs fixtures/job.js under `name`. */
  job(name: string): { command: string; args: string[] } {
    return { command: process.execPath, args: [JOB_PROGRAM, this.socketPath, name] };
  }

  /** Ends each named job with its instruction ("exit 3", "kill SIGTERM") as soon as it connects. */
  autopilot(plan: Record<string, string>): void {
    for (const [name, instruction] of Object.entries(plan)) this.#plan.set(name, instruction);
  }

  arrival(name: string): Arrival {
    const found = this.arrivals.find((arrival) => arrival.name === name);
    if (!found) throw new Error(`job ${name} has not connected`);
    return found;
  }

  /** Connected jobs the test has not told to end yet, oldest first. */
  held(): Arrival[] {
    return this.arrivals.filter((arrival) => !arrival.released);
  }

  /** Tells job `name` how to end and waits until its process has exited and been reaped by its parent. */
  async release(name: string, instruction: string, ms: number): Promise<void> {
    const arrival = this.arrival(name);
    this.#tell(arrival, instruction);
    await waitUntil(
      () => arrival.ended && isGone(arrival.pid),
      ms,
      `job ${name} was told to "${instruction}" but its process did not go away within ${inWords(scaled(ms))} ` +
        `(a child that has exited stays a zombie until its parent handles its exit).`,
    );
  }

  /**
   * Pids of the job processes of this test that are alive now (not zombies), counted from the process
   * table. A wrapper process (a shell) and the job it runs count once.
   */
  aliveJobs(): number[] {
    const mine = processTable().filter((p) => p.state !== 'Z' && p.command.includes(this.socketPath));
    const pids = new Set(mine.map((p) => p.pid));
    const alive = mine.filter((p) => !pids.has(p.ppid)).map((p) => p.pid);
    this.peak = Math.max(this.peak, alive.length);
    return alive;
  }

  /** Ends every job process of this test, closes the server and removes the temp dir. */
  async close(): Promise<void> {
    killAll(this.arrivals.map((arrival) => arrival.pid));
    killAll(
      processTable()
        .filter((p) => p.command.includes(this.socketPath))
        .map((p) => p.pid),
    );
    for (const arrival of this.arrivals) arrival.socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }

  #accept(socket: net.Socket): void {
    socket.setEncoding('utf8');
    let received = '';
    let arrival: Arrival | undefined;
    socket.on('data', (chunk: string) => {
      if (arrival) return;
      received += chunk;
      const end = received.indexOf('\n');
      if (end === -1) return;
      const [name, pid] = received.slice(0, end).split(' ');
      arrival = { name: name!, pid: Number(pid), ended: false, released: false, socket };
      this.arrivals.push(arrival);
      this.aliveJobs();
      const planned = this.#plan.get(arrival.name);
      if (planned !== undefined) this.#tell(arrival, planned);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (arrival) arrival.ended = true;
    });
  }

  #tell(arrival: Arrival, instruction: string): void {
    arrival.released = true;
    arrival.socket.write(`${instruction}\n`);
  }
}

/** True once `pid` no longer exists at all: it has exited and its parent has reaped it. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
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
