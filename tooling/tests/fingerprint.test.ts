import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { differences, fileHashes, fingerprintOf, listing, parseListing } from '../fingerprint';

function tree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fingerprint-'));
  cpSync(path.join(__dirname, '..', '..', 'workbook.json'), path.join(root, 'workbook.json'));
  writeFileSync(path.join(root, 'package.json'), '{}\n');
  cpSync(path.join(__dirname, '..', '..', 'tests', 'support'), path.join(root, 'tests', 'support'), {
    recursive: true,
  });
  return root;
}

describe('grading fingerprint', () => {
  const released = tree();
  const learner = tree();
  afterAll(() => {
    rmSync(released, { recursive: true, force: true });
    rmSync(learner, { recursive: true, force: true });
  });

  test('is the same for identical copies, and ignores exercises/', () => {
    writeFileSync(path.join(learner, 'notes.md'), 'my own notes\n');
    expect(fingerprintOf(fileHashes(learner))).toBe(fingerprintOf(fileHashes(released)));
  });

  test('names each grading file that was changed, added or removed', () => {
    writeFileSync(path.join(learner, 'tests', 'support', 'deadline.ts'), '// always pass\n');
    writeFileSync(path.join(learner, 'tests', 'support', 'extra.ts'), '\n');
    rmSync(path.join(learner, 'package.json'));
    const actual = fileHashes(learner);
    expect(fingerprintOf(actual)).not.toBe(fingerprintOf(fileHashes(released)));
    expect(differences(fileHashes(released), actual)).toEqual([
      'changed  tests/support/deadline.ts',
      'added    tests/support/extra.ts',
      'removed  package.json',
    ]);
  });

  test('leaves out known-wrong variants, and takes in the GitHub Classroom workflow', () => {
    const copy = tree();
    try {
      const variant = path.join(copy, 'tests', '02-processes', 'run-command', 'wrong', 'bug', 'index.ts');
      mkdirSync(path.dirname(variant), { recursive: true });
      writeFileSync(variant, '// KNOWN-WRONG VARIANT: a bug\n');
      expect(fingerprintOf(fileHashes(copy))).toBe(fingerprintOf(fileHashes(released)));
      const workflow = path.join(copy, '.github', 'workflows', 'classroom.yml');
      mkdirSync(path.dirname(workflow), { recursive: true });
      writeFileSync(workflow, 'name: Autograding Tests\n');
      expect(differences(fileHashes(released), fileHashes(copy))).toEqual(['added    .github/workflows/classroom.yml']);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('reads back the listing it writes', () => {
    const hashes = fileHashes(released);
    expect(parseListing(listing(hashes))).toEqual(hashes);
  });
});
