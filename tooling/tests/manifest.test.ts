import {
  exerciseIdOfTestFile,
  findExercise,
  ManifestError,
  parseManifest,
  selectExercises,
  WORKBOOK_ROOT,
} from '../manifest';
import path from 'node:path';

const valid = {
  title: 'T',
  chapters: [
    {
      id: '02-processes',
      title: 'Processes',
      exercises: [{ name: 'run-command', title: 'Run', points: 10, hints: ['one'] }],
    },
  ],
};

describe('parseManifest', () => {
  test('derives ids and a default time limit', () => {
    const manifest = parseManifest(valid);
    expect(manifest.exercises.map((e) => [e.id, e.timeLimitSeconds])).toEqual([['02-processes/run-command', 20]]);
  });

  test('names the file and the field of a bad value', () => {
    const broken = structuredClone(valid) as { chapters: { exercises: { points: unknown }[] }[] };
    broken.chapters[0]!.exercises[0]!.points = 'ten';
    expect(() => parseManifest(broken, '/x/workbook.json')).toThrow(ManifestError);
    expect(() => parseManifest(broken, '/x/workbook.json')).toThrow(
      /workbook\.json[\s\S]*chapters\[0\]\.exercises\[0\]\.points/,
    );
  });

  test('rejects unknown fields, bad ids and duplicates', () => {
    expect(() => parseManifest({ ...valid, extra: 1 })).toThrow(/extra/);
    expect(() => parseManifest({ ...valid, chapters: [{ ...valid.chapters[0], id: 'processes' }] })).toThrow(
      /chapters\[0\]\.id/,
    );
    expect(() => parseManifest({ ...valid, chapters: [valid.chapters[0], valid.chapters[0]] })).toThrow(/listed twice/);
  });
});

describe('exercise lookup', () => {
  test('maps a suite path to its exercise id', () => {
    const suite = path.join(WORKBOOK_ROOT, 'tests', '02-processes', 'run-command', 'run-command.test.ts');
    expect(exerciseIdOfTestFile(suite)).toBe('02-processes/run-command');
    expect(exerciseIdOfTestFile(path.join(WORKBOOK_ROOT, 'tests', 'support', 'deadline.ts'))).toBeUndefined();
  });

  test('finds an exercise by id or by an unambiguous name', () => {
    const manifest = parseManifest(valid);
    expect(findExercise(manifest, 'run-command')?.id).toBe('02-processes/run-command');
    expect(findExercise(manifest, '02-processes/run-command/')?.id).toBe('02-processes/run-command');
    expect(findExercise(manifest, 'nope')).toBeUndefined();
  });

  test('selects exercises by chapter, id or name, in manifest order and once each', () => {
    const manifest = parseManifest(valid);
    const ids = (wanted: string[]) => selectExercises(manifest, wanted).map((exercise) => exercise.id);
    expect(ids(['02-processes'])).toEqual(
      manifest.exercises.filter((e) => e.chapterId === '02-processes').map((e) => e.id),
    );
    expect(ids(['run-command', '02-processes/run-command/'])).toEqual(['02-processes/run-command']);
    expect(() => ids(['nope'])).toThrow('no exercise or chapter "nope"');
  });
});
