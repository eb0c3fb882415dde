/**
 * The watchdog: a small process that outlives Jest. Containment (containment.ts) starts it with the run's
 * first graded process, in a session of its own, and records every process the graded code starts in the
 * run's ledger, `.workbook/runs/<run id>.pids` (`<pid> <start time> <tag>` lines). The watchdog's stdin is
 * a pipe from Jest that carries nothing: when it closes, Jest is gone, normally or not (even killed with
 * SIGKILL, when none of Jest's own clean-up can run). The watchdog then kills whatever the run's graded
 * code left alive, within a moment, removes the ledger and exits.
 *
 * When it starts, it does the same for the ledgers of earlier runs whose Jest is gone (their watchdog was
 * killed too), so the next run starts clean.
 *
 *   node watchdog.ts <run id> <ledger folder>
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processStartTime, ProcessTable } from './process-table';

const LEDGER_SUFFIX = '.pids';

/** The ledger of a run: the folder holds one per run that has started graded processes. */
export function ledgerFile(folder: string, runId: string): string {
  return path.join(folder, `${runId}${LEDGER_SUFFIX}`);
}

/** A line of the ledger, for a process just tagged; its start time tells it from a later user of its pid. */
export function ledgerLine(pid: number, tag: string): string {
  return `${pid} ${processStartTime(pid) ?? '-'} ${tag}\n`;
}

/** Kills, in rounds until none is left, every live process of the run whose ledger this is; removes it. */
async function killRun(folder: string, runId: string): Promise<void> {
  const file = ledgerFile(folder, runId);
  const table = new ProcessTable();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No ledger: the run started nothing, or another watchdog has finished with it.
  }
  for (const line of text.split('\n')) {
    const [pid, startTime, tag] = line.split(' ');
    if (!pid || !tag) continue;
    const now = processStartTime(Number(pid));
    if (startTime === '-' ? isAlive(Number(pid)) : now === startTime) table.adopt(Number(pid), tag);
  }
  for (let round = 0, quiet = 0; round < 400 && quiet < 2; round += 1) {
    const alive = table.scan().filter((info) => !info.zombie && info.tag?.startsWith(`${runId}:`));
    for (const info of alive) {
      try {
        process.kill(info.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    quiet = alive.length === 0 ? quiet + 1 : 0;
    await sleep(5);
  }
  rmSync(file, { force: true });
}

/** Runs whose ledger is left and whose Jest (the pid a run id starts with) is gone. */
function abandonedRuns(folder: string, ownRunId: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith(LEDGER_SUFFIX))
    .map((name) => name.slice(0, -LEDGER_SUFFIX.length))
    .filter((runId) => runId !== ownRunId && !isAlive(Number(runId.split('-')[0])));
}

async function main(runId: string, folder: string): Promise<void> {
  process.stdin.on('end', () => void killRun(folder, runId).then(() => process.exit(0)));
  process.stdin.on('error', () => void killRun(folder, runId).then(() => process.exit(0)));
  process.stdin.resume();
  for (const abandoned of abandonedRuns(folder, runId)) await killRun(folder, abandoned);
}

if (require.main === module) {
  const [runId, folder] = process.argv.slice(2);
  if (runId && folder) void main(runId, folder);
}
