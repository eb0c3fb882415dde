/**
 * The GitHub Classroom workflow parses, grades once, converts the results file into the reporter's input
 * and hands it to the reporter under the name the reporter reads. (student-edition.test.ts runs its
 * commands on real grading runs.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findStep, loadWorkflow, stepsOf } from './classroom-workflow';

const workflow = loadWorkflow();
const steps = stepsOf(workflow);
const scripts = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

const checkout = findStep(steps, { uses: 'actions/checkout' });
const setupNode = findStep(steps, { uses: 'actions/setup-node' });
const install = findStep(steps, { run: /^npm ci\b/ });
const grade = findStep(steps, { run: /^npm test$/ });
const convert = findStep(steps, { run: /^npm run -s classroom-results -- / });
const reporter = findStep(steps, { uses: 'classroom-resources/autograding-grading-reporter' });

describe('the GitHub Classroom workflow', () => {
  test('runs on a push and on demand, for every commit but GitHub Classroom’s own', () => {
    expect(workflow.on).toEqual(expect.arrayContaining(['push', 'repository_dispatch', 'workflow_dispatch']));
    expect(Object.values(workflow.jobs)[0]!.if).toBe("github.actor != 'github-classroom[bot]'");
    expect(workflow.permissions).toEqual({ actions: 'read', contents: 'read' });
  });

  test('checks out, sets up Node.js 22 or 24, installs, grades, converts and reports, in that order', () => {
    const order = [checkout, setupNode, install, grade, convert, reporter].map((step) => steps.indexOf(step));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect([22, 24, '22', '24']).toContain(setupNode.with?.['node-version']);
    expect(setupNode.with?.cache).toBe('npm');
  });

  test('pins every action by its major version tag', () => {
    const actions = steps.flatMap((step) => (step.uses ? [step.uses] : []));
    expect(actions.length).toBeGreaterThanOrEqual(3);
    for (const action of actions) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
  });

  test('goes on past a grade below full marks, to report the points earned', () => {
    expect(grade['continue-on-error']).toBe(true);
    // The conversion must fail the job when there is nothing to convert, and the reporter must not run then.
    for (const step of [convert, reporter]) {
      expect(step['continue-on-error']).toBeUndefined();
      expect(step.if).toBeUndefined();
    }
  });

  test('converts the results file the grading step writes, outside the checkout', () => {
    const written = grade.env?.WORKBOOK_RESULTS;
    expect(written).toMatch(/^\$\{\{ runner\.temp \}\}\//);
    const read = /--results "([^"]+)"/.exec(convert.run!)?.[1];
    expect(read?.replace('$RUNNER_TEMP', '${{ runner.temp }}')).toBe(written);
    expect(convert.run).toMatch(/ --github-output$/);
  });

  test('hands the converter’s output to the reporter under the name the reporter reads', () => {
    const runner = convert.id!;
    // The reporter's error message for a bad `runners` input asks for letters and digits.
    expect(runner).toMatch(/^[a-zA-Z0-9]+$/);
    expect(reporter.with?.runners).toBe(runner);
    const variable = `${runner.toUpperCase()}_RESULTS`;
    expect(variable).not.toBe('WORKBOOK_RESULTS');
    expect(reporter.env).toEqual({ [variable]: `\${{ steps.${runner}.outputs.result }}` });
  });

  test('runs three commands, with npm scripts the workbook has', () => {
    expect(steps.filter((step) => step.run !== undefined)).toEqual([install, grade, convert]);
    expect(scripts.test).toBeDefined();
    expect(scripts['classroom-results']).toBe('tsx tooling/classroom-results.ts');
  });
});
