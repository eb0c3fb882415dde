/**
 * An exercise's contract and the tests that hold it to it. The stub's doc comments are the contract: each
 * normative clause is tagged `[C1]`, `[C2]`, … where it is written. `tests/<exercise id>/contract.md` is the
 * clause-to-test table, a Markdown table with a `clause` and a `test` column: one row per (clause, test)
 * pair, the clause cell starting with its tag (`C3`, or `C3: what it says`) or left empty for another test
 * of the clause above; the test cell is a test's title as the catalogue lists it (`describe › title`).
 *
 * `npm run verify` checks that every clause of the stub has a row with a test, that every test named exists,
 * and that every test of the exercise checks some clause: a clause without a test, or a test of nothing
 * written, fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';

const CLAUSE_TAG = /\[(C\d+)\]/g;
const markdown = new MarkdownIt();

/** The clause tags in the stub's files, in order of first appearance. */
export function clausesOfStub(sources: string[]): string[] {
  return [...new Set(sources.flatMap((source) => [...source.matchAll(CLAUSE_TAG)].map((match) => match[1]!)))];
}

/** The table's (clause, test) rows, read with markdown-it. */
export function rowsOfTable(source: string): { clause: string; test: string }[] {
  const tokens = markdown.parse(source, {});
  const rows: { clause: string; test: string }[] = [];
  let cells: string[] = [];
  let inBody = false;
  let clause = '';
  for (const token of tokens) {
    if (token.type === 'tbody_open') inBody = true;
    if (token.type === 'tbody_close') inBody = false;
    if (!inBody) continue;
    if (token.type === 'tr_open') cells = [];
    if (token.type === 'inline') cells.push(token.content.trim());
    if (token.type === 'tr_close') {
      clause = /^C\d+/.exec(cells[0] ?? '')?.[0] ?? (cells[0] ? cells[0] : clause);
      const test = (cells[1] ?? '').replace(/^`|`$/g, '');
      if (test) rows.push({ clause, test });
    }
  }
  return rows;
}

/** Problems with an exercise's contract table, given the stub's sources and the exercise's catalogued tests. */
export function checkContract(exerciseId: string, stub: string[], file: string, tests: readonly string[]): string[] {
  const where = `tests/${exerciseId}/contract.md`;
  if (!existsSync(file)) return [`${where}: missing (the table of the stub's clauses and the tests of each)`];
  const clauses = clausesOfStub(stub);
  if (clauses.length === 0) return [`exercises/${exerciseId}: the stub tags no clause ([C1], [C2], …)`];
  const rows = rowsOfTable(readFileSync(file, 'utf8'));
  const problems: string[] = [];
  for (const clause of clauses.filter((c) => !rows.some((row) => row.clause === c)))
    problems.push(`${where}: clause ${clause} of the stub has no test`);
  for (const row of rows.filter((r) => !clauses.includes(r.clause)))
    problems.push(`${where}: ${row.clause || '(no clause)'} is not a clause of the stub (test "${row.test}")`);
  for (const row of rows.filter((r) => !tests.includes(r.test)))
    problems.push(`${where}: ${row.clause}: no test titled "${row.test}" (see tests/catalogue.json)`);
  for (const test of tests.filter((t) => !rows.some((row) => row.test === t)))
    problems.push(`${where}: the test "${test}" checks no clause: add its row`);
  return problems;
}
