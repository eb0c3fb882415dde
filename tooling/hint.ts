/**
 * `npm run hint -- <exercise id>`: prints the next staged hint for an exercise, one more each time.
 * `npm run hint -- <exercise id> --all` prints every hint shown so far; `--reset` hides them again.
 * Which hints a learner has seen is kept in .workbook/hints.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findExercise, loadManifest, WORKBOOK_ROOT } from './manifest';

const STATE_FILE = path.join(WORKBOOK_ROOT, '.workbook', 'hints.json');

function readState(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function writeState(state: Record<string, number>): void {
  mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

function main(argv: string[]): number {
  const manifest = loadManifest();
  const flags = new Set(argv.filter((arg) => arg.startsWith('--')));
  const [wanted] = argv.filter((arg) => !arg.startsWith('--'));
  const exercise = wanted === undefined ? undefined : findExercise(manifest, wanted);
  if (!exercise) {
    if (wanted !== undefined) console.log(`No exercise called "${wanted}".`);
    console.log('Usage: npm run hint -- <exercise id> [--all | --reset]\n\nExercises:');
    for (const e of manifest.exercises) console.log(`  ${e.id.padEnd(36)} ${e.title}`);
    return wanted === undefined ? 0 : 1;
  }
  const state = readState();
  const total = exercise.hints.length;
  if (flags.has('--reset')) {
    delete state[exercise.id];
    writeState(state);
    console.log(`Hints for ${exercise.id} hidden again.`);
    return 0;
  }
  const seen = state[exercise.id] ?? 0;
  const show = (index: number): void =>
    console.log(`Hint ${index + 1} of ${total} for ${exercise.id}:\n  ${exercise.hints[index]}\n`);
  if (flags.has('--all')) {
    if (seen === 0) console.log(`No hints shown yet for ${exercise.id}. Run without --all to see the first.`);
    for (let index = 0; index < seen; index += 1) show(index);
    return 0;
  }
  if (seen >= total) {
    console.log(`No more hints for ${exercise.id}: all ${total} have been shown (see them again with --all).`);
    console.log(`The chapter explains the idea: chapters/${exercise.chapterId}.md#exercise-${exercise.name}`);
    return 0;
  }
  show(seen);
  state[exercise.id] = seen + 1;
  writeState(state);
  console.log(seen + 1 < total ? `Stuck still? Run it again for hint ${seen + 2}.` : 'That was the last hint.');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
