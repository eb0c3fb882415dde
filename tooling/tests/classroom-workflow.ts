/**
 * The GitHub Classroom workflow (.github/workflows/classroom.yml) for the tests: read with the yaml
 * package, checked against the shape the tests rely on, and its `run` steps run as a GitHub-hosted runner
 * runs them (bash -e, the step's env, RUNNER_TEMP and GITHUB_OUTPUT set), in any workbook folder.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const WORKFLOW_FILE = path.join(__dirname, '..', '..', '.github', 'workflows', 'classroom.yml');

const stepSchema = z.object({
  name: z.string().optional(),
  id: z.string().optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  if: z.string().optional(),
  with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  env: z.record(z.string(), z.string()).optional(),
  'continue-on-error': z.boolean().optional(),
  'timeout-minutes': z.number().optional(),
});

const workflowSchema = z.object({
  name: z.string(),
  on: z.union([z.string(), z.array(z.string()), z.record(z.string(), z.unknown())]),
  permissions: z.record(z.string(), z.string()),
  jobs: z.record(
    z.string(),
    z.object({
      'runs-on': z.string(),
      if: z.string().optional(),
      'timeout-minutes': z.number().optional(),
      steps: z.array(stepSchema).min(1),
    }),
  ),
});

export type Workflow = z.infer<typeof workflowSchema>;
export type WorkflowStep = z.infer<typeof stepSchema>;

export function loadWorkflow(file = WORKFLOW_FILE): Workflow {
  return workflowSchema.parse(parse(readFileSync(file, 'utf8')));
}

/** The steps of the workflow's one job. */
export function stepsOf(workflow: Workflow): WorkflowStep[] {
  const jobs = Object.values(workflow.jobs);
  if (jobs.length !== 1) throw new Error(`expected one job in the workflow, found ${jobs.length}`);
  return jobs[0]!.steps;
}

/** The one step whose `run` command matches, or whose `uses` action starts with `action@`. */
export function findStep(steps: WorkflowStep[], which: { run: RegExp } | { uses: string }): WorkflowStep {
  const found = steps.filter((step) =>
    'run' in which ? step.run !== undefined && which.run.test(step.run) : step.uses?.startsWith(`${which.uses}@`),
  );
  if (found.length !== 1) throw new Error(`expected one step for ${JSON.stringify(String(Object.values(which)[0]))}`);
  return found[0]!;
}

export interface StepRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Variables of the test run that must not leak into a step (GitHub's runner sets none of them). */
const NOT_INHERITED = /^(WORKBOOK_|JEST_|NODE_ENV$|GITHUB_OUTPUT$|RUNNER_TEMP$)/;

/**
 * Runs a `run` step in `cwd`, as the runner would, with `${{ runner.temp }}` standing for `runnerTemp`.
 * `append` is added to the command (e.g. ` -- <jest patterns>`, to grade a few exercises only).
 */
export function runStep(
  step: WorkflowStep,
  where: { cwd: string; runnerTemp: string; githubOutput: string; append?: string },
): StepRun {
  const expand = (value: string): string => {
    const expanded = value.replace(/\$\{\{\s*runner\.temp\s*\}\}/g, where.runnerTemp);
    if (expanded.includes('${{')) throw new Error(`cannot stand in for the expression in: ${value}`);
    return expanded;
  };
  if (step.run === undefined) throw new Error(`step ${step.name ?? step.id} has no run command`);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !NOT_INHERITED.test(name)));
  const env = {
    ...inherited,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: where.runnerTemp,
    GITHUB_OUTPUT: where.githubOutput,
    ...Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, expand(value)])),
  };
  const result = spawnSync('bash', ['-e', '-c', expand(step.run) + (where.append ?? '')], {
    cwd: where.cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
