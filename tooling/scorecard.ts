/** Renders grades as the scorecard a learner reads after `npm test`. */
import { styleText } from 'node:util';
import type { ExerciseGrade, ExerciseStatus, Grades } from './grades';

type Style = Parameters<typeof styleText>[0];

export interface RenderOptions {
  color: boolean;
  targetLabel: string;
  seconds: number;
  resultsFile?: string;
  /** Fingerprint of the grading files (see tooling/fingerprint.ts). */
  fingerprint?: string;
}

const STATUS_LOOK: Record<ExerciseStatus, { mark: string; style: Style }> = {
  passed: { mark: '✓', style: 'green' },
  failing: { mark: '✗', style: 'red' },
  'not started': { mark: '·', style: 'gray' },
  hung: { mark: '⧗', style: 'magenta' },
  exited: { mark: '!', style: 'magenta' },
  crashed: { mark: '!', style: 'magenta' },
  runaway: { mark: '!', style: 'magenta' },
  'not graded': { mark: ' ', style: 'gray' },
  'not submitted': { mark: '·', style: 'gray' },
  'out of time': { mark: '⧗', style: 'gray' },
};

const MESSAGE_LINES = 6;
/** The scorecard shows the last lines of a failing exercise's output; the results file keeps more. */
const OUTPUT_LINES = 10;

function formatPoints(value: number): string {
  return String(Number(value.toFixed(2)));
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function clip(message: string): string {
  const lines = message.split('\n');
  return lines.length <= MESSAGE_LINES ? message : [...lines.slice(0, MESSAGE_LINES), '…'].join('\n');
}

export function renderScorecard(grades: Grades, options: RenderOptions): string {
  const paint = (style: Style, text: string): string => (options.color ? styleText(style, text) : text);
  const nameWidth = Math.max(10, ...grades.exercises.map((grade) => grade.exercise.name.length));
  const out: string[] = ['', paint('bold', `Concurrency workbook · grading ${options.targetLabel}`)];
  let chapter = '';
  const row = (grade: ExerciseGrade): void => {
    const look = STATUS_LOOK[grade.status];
    const points = `${formatPoints(grade.score)} / ${grade.maxScore}`;
    out.push(
      `  ${paint(look.style, look.mark)} ${grade.exercise.name.padEnd(nameWidth)}  ${paint(look.style, grade.status.padEnd(11))}  ${points.padStart(9)}`,
    );
    if (grade.status === 'passed') return;
    if (grade.status !== 'not started' && grade.firstFailure) out.push(indent(clip(grade.firstFailure), '      '));
    if (grade.output) {
      out.push(paint('dim', '      output of your code (last lines):'));
      const lines = grade.output.split('\n');
      const shown = lines.length > OUTPUT_LINES ? ['…', ...lines.slice(-OUTPUT_LINES)] : lines;
      out.push(paint('dim', indent(shown.join('\n'), '      │ ')));
    }
    out.push(paint('dim', `      hint: npm run hint -- ${grade.exercise.id}`));
  };
  const graded = grades.exercises.filter((grade) => grade.status !== 'not graded');
  const skipped = grades.exercises.length - graded.length;
  for (const grade of graded) {
    if (grade.exercise.chapterId !== chapter) {
      chapter = grade.exercise.chapterId;
      out.push('', paint('bold', `${chapter.slice(0, 2)} ${grade.exercise.chapterTitle}`));
    }
    row(grade);
  }
  for (const stray of grades.strays) out.push('', paint('yellow', `Not graded (no manifest entry): ${stray}`));
  const passed = graded.filter((grade) => grade.status === 'passed').length;
  const full = graded.length > 0 && passed === graded.length;
  const score = graded.reduce((sum, grade) => sum + grade.score, 0);
  const maxScore = graded.reduce((sum, grade) => sum + grade.maxScore, 0);
  out.push(
    '',
    paint(
      full ? 'green' : 'bold',
      `Total ${formatPoints(score)} / ${maxScore} points · ${passed} of ${graded.length} exercises passed · ${options.seconds.toFixed(1)} s`,
    ),
  );
  if (graded.length === 0)
    out.push('No exercise matched. Try `npm test` alone, or an id such as 02-processes/run-command.');
  else if (skipped > 0)
    out.push(paint('dim', `${skipped} more exercise(s) not graded in this run: \`npm test\` grades all.`));
  if (options.resultsFile) out.push(paint('dim', `Results: ${options.resultsFile}`));
  if (options.fingerprint) out.push(paint('dim', `Grading files fingerprint: ${options.fingerprint}`));
  out.push('');
  return out.join('\n');
}
