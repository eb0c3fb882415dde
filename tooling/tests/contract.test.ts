import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkContract, clausesOfStub, rowsOfTable } from '../contract';
import { scoreOf } from '../mutation';

const STUB = `/**
 * Runs a command. [C1] Resolves with its output.
 * [C2] Rejects when it cannot start; [C1] again is the same clause.
 */`;

const TABLE = `| clause | test |
| --- | --- |
| C1: resolves with its output | \`run › resolves\` |
| | \`run › resolves twice\` |
| C2 | \`run › rejects\` |
`;

const TESTS = ['run › resolves', 'run › resolves twice', 'run › rejects'];

describe('contract tables', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'contract-'));
    file = path.join(dir, 'contract.md');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the clause tags of a stub in order, once each', () => {
    expect(clausesOfStub([STUB, '// [C3] in another file'])).toEqual(['C1', 'C2', 'C3']);
  });

  test('reads one row per (clause, test), an empty clause cell continuing the clause above', () => {
    expect(rowsOfTable(TABLE)).toEqual([
      { clause: 'C1', test: 'run › resolves' },
      { clause: 'C1', test: 'run › resolves twice' },
      { clause: 'C2', test: 'run › rejects' },
    ]);
  });

  test('a complete table has no problems', () => {
    writeFileSync(file, TABLE);
    expect(checkContract('01-x/run', [STUB], file, TESTS)).toEqual([]);
  });

  test('a clause without a test, a test of nothing and a test that does not exist are each reported', () => {
    writeFileSync(file, TABLE.replace('| C2 | `run › rejects` |\n', '| C9 | `run › gone` |\n'));
    expect(checkContract('01-x/run', [STUB], file, TESTS)).toEqual([
      'tests/01-x/run/contract.md: clause C2 of the stub has no test',
      'tests/01-x/run/contract.md: C9 is not a clause of the stub (test "run › gone")',
      'tests/01-x/run/contract.md: C9: no test titled "run › gone" (see tests/catalogue.json)',
      'tests/01-x/run/contract.md: the test "run › rejects" checks no clause: add its row',
    ]);
  });

  test('a missing table and an untagged stub are each reported', () => {
    expect(checkContract('01-x/run', [STUB], file, TESTS)).toEqual([
      "tests/01-x/run/contract.md: missing (the table of the stub's clauses and the tests of each)",
    ]);
    writeFileSync(file, TABLE);
    expect(checkContract('01-x/run', ['/** no tags */'], file, TESTS)).toEqual([
      'exercises/01-x/run: the stub tags no clause ([C1], [C2], …)',
    ]);
  });
});

describe('mutation scores', () => {
  const mutant = (status: string, line = 1) => ({
    mutatorName: 'StringLiteral',
    replacement: '""',
    status,
    location: { start: { line, column: 2 }, end: { line, column: 9 } },
  });

  test('count killed and timed-out mutants over those that ran, and list the survivors', () => {
    const score = scoreOf('01-x/run', {
      files: {
        'solutions/01-x/run/index.ts': {
          source: '',
          mutants: [
            mutant('Killed'),
            mutant('Timeout'),
            mutant('Killed'),
            mutant('Survived', 7),
            mutant('CompileError'),
            mutant('Ignored'),
          ],
        },
      },
    });
    expect(score).toMatchObject({ mutants: 6, killed: 3, survived: 1, ignored: 2, score: 75 });
    expect(score.survivors).toEqual(['solutions/01-x/run/index.ts:7:2 StringLiteral → "\\"\\""']);
  });
});
