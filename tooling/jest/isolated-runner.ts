/**
 * A Jest test runner that runs every grading suite in a fresh child process in its own process group,
 * with a wall-clock limit taken from the manifest. When the suite reports, or the limit passes, or the
 * process dies, the whole group is killed: nothing the graded code started outlives its suite.
 *
 * The outcome of a suite that did not report is a Jest "test exec error" whose `type` says why
 * (see `SuiteFailure`), so the scorecard can call it hung, exited or crashed.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createEmptyTestResult, type TestResult } from '@jest/test-result';
import type { Config } from '@jest/types';
import {
  EmittingTestRunner,
  type Test,
  type TestEvents,
  type TestRunnerContext,
  type TestRunnerOptions,
  type TestWatcher,
  type UnsubscribeFn,
} from 'jest-runner';
import { DEFAULT_TIME_LIMIT_SECONDS, exerciseIdOfTestFile } from '../manifest';
import { settings } from '../settings';
import { SuiteFailure, type SuiteFailureKind } from '../suite-failure';
import { containment } from './containment';
import { EXIT_MARKER, isFileMessage, type FileJob } from './file-protocol';
import { SuiteProgress } from './suite-progress';
import { suiteOutput } from './suite-output';
import { coolDown, tagOf, takeProcess, warmUp } from './warm-processes';

/** How much of a suite's own stdout/stderr is kept to show the learner when the exercise fails. */
const OUTPUT_TAIL_BYTES = 4000;

type Listener<Name extends keyof TestEvents> = (eventData: TestEvents[Name]) => void | Promise<void>;

export default class IsolatedRunner extends EmittingTestRunner {
  readonly #listeners = new Map<keyof TestEvents, Set<Listener<keyof TestEvents>>>();
  readonly #running = new Set<ChildProcess>();
  readonly #timeLimits: Map<string, number>;
  readonly #timeScale: number;
  readonly #target: { label: string; dir: string; foundIn?: string };
  /** The whole run's time budget in seconds (WORKBOOK_TIME_BUDGET), if any, and when it runs out. */
  readonly #budgetSeconds: number | undefined;
  #budgetEnds = Infinity;

  constructor(globalConfig: Config.GlobalConfig, context: TestRunnerContext) {
    super(globalConfig, context);
    const { manifest, machine, target, timeBudgetSeconds } = settings();
    this.#timeLimits = new Map(manifest.exercises.map((exercise) => [exercise.id, exercise.timeLimitSeconds]));
    this.#timeScale = machine.timeScale;
    this.#target = target;
    this.#budgetSeconds = timeBudgetSeconds;
  }

  override on<Name extends keyof TestEvents>(eventName: Name, listener: Listener<Name>): UnsubscribeFn {
    const set = this.#listeners.get(eventName) ?? new Set();
    set.add(listener as Listener<keyof TestEvents>);
    this.#listeners.set(eventName, set);
    return () => set.delete(listener as Listener<keyof TestEvents>);
  }

  async #emit<Name extends keyof TestEvents>(eventName: Name, data: TestEvents[Name]): Promise<void> {
    for (const listener of this.#listeners.get(eventName) ?? []) await listener(data);
  }

  override async runTests(tests: Test[], watcher: TestWatcher, _options: TestRunnerOptions): Promise<void> {
    watcher.on('change', (state) => {
      if (state.interrupted) for (const child of this.#running) signalGroup(child, 'SIGKILL');
    });
    const queue = [...tests];
    const lanes = Math.max(1, Math.min(this._globalConfig.maxWorkers, queue.length));
    if (this.#budgetSeconds !== undefined) this.#budgetEnds = Date.now() + this.#budgetSeconds * 1000;
    const lane = async (): Promise<void> => {
      for (let test = queue.shift(); test; test = queue.shift()) {
        if (watcher.isInterrupted()) return;
        await this.#emit('test-file-start', [test]);
        try {
          this.#checkSubmitted(test);
          this.#checkBudget();
          const result = await this.#runInOwnProcess(test, Math.min(lanes, queue.length));
          await this.#emit('test-file-success', [test, result]);
        } catch (error) {
          const failure = error instanceof SuiteFailure ? error : new SuiteFailure('crashed', String(error));
          // Jest turns this into a suite-level "test exec error" that keeps `type`, read by the scorecard.
          await this.#emit('test-file-failure', [
            test,
            { message: failure.message, stack: failure.message, type: failure.kind },
          ]);
        }
      }
    };
    containment.guardExit();
    warmUp(lanes);
    try {
      await Promise.all(Array.from({ length: lanes }, lane));
    } finally {
      coolDown();
      // Anything of this run still alive (it cannot be, unless a suite's clean-up failed) goes now.
      await containment.killAll();
    }
  }

  /** Paths in what the learner reads name the submission where it was found, not the copy graded. */
  #display<T>(value: T): T {
    const { dir, foundIn } = this.#target;
    if (!foundIn) return value;
    const inJson = (text: string): string => JSON.stringify(text).slice(1, -1);
    const replaced = JSON.stringify(value)
      .replaceAll(inJson(dir), inJson(foundIn))
      .replaceAll(inJson(path.relative(process.cwd(), dir)), inJson(foundIn));
    return JSON.parse(replaced) as T;
  }

  /** An exercise whose folder is missing from the graded tree is not run at all. */
  #checkSubmitted(test: Test): void {
    const exerciseId = exerciseIdOfTestFile(test.path);
    if (exerciseId === undefined || existsSync(path.join(this.#target.dir, exerciseId))) return;
    throw new SuiteFailure(
      'not submitted',
      `its folder ${exerciseId}/ is not in ${this.#target.label}, so there is nothing to grade. Put the exercise's files back where the stub was.`,
    );
  }

  /** Why the run's time budget stops grading: it ran out, or (for one suite) it cut the suite short. */
  #budgetReason(when: string): string {
    return (
      `the run's time budget of ${this.#budgetSeconds} s (WORKBOOK_TIME_BUDGET) ran out ${when}. ` +
      `Exercises that hang use up their whole time limit: fix those first, and the others get graded.`
    );
  }

  /** An exercise is not started when less than a second of the run's time budget is left. */
  #checkBudget(): void {
    if (Date.now() > this.#budgetEnds - 1000)
      throw new SuiteFailure('out of time', this.#budgetReason('before this exercise'));
  }

  #runInOwnProcess(test: Test, keepWarm: number): Promise<TestResult> {
    const exerciseId = exerciseIdOfTestFile(test.path);
    const ownLimitSeconds =
      ((exerciseId && this.#timeLimits.get(exerciseId)) || DEFAULT_TIME_LIMIT_SECONDS) * this.#timeScale;
    // Within the run's time budget, if there is one: results for every exercise before an autograder's own
    // timeout kills the whole run.
    const limitSeconds = Math.min(ownLimitSeconds, (this.#budgetEnds - Date.now()) / 1000);
    const job: FileJob = {
      setup: {
        serializableResolvers: [
          { config: test.context.config, serializableModuleMap: test.context.moduleMap.toJSON() },
        ],
      },
      work: {
        config: test.context.config,
        globalConfig: this._globalConfig,
        path: test.path,
        context: {
          ...this._context,
          changedFiles: this._context.changedFiles && [...this._context.changedFiles],
          sourcesRelatedToTestsInChangedFiles: this._context.sourcesRelatedToTestsInChangedFiles && [
            ...this._context.sourcesRelatedToTestsInChangedFiles,
          ],
        },
      },
    };

    return new Promise<TestResult>((resolve, reject) => {
      const child = takeProcess(keepWarm);
      const tag = tagOf(child);
      this.#running.add(child);
      let output = '';
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);

      let settled = false;
      const finish = (outcome: { result: TestResult } | { failure: SuiteFailure }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        containment.unwatch(tag);
        // Freeze the suite's process group so nothing in it can start more, kill everything tagged (found
        // while their parents still live), then the group. Report only once all of it is gone.
        signalGroup(child, 'SIGSTOP');
        void containment
          .killAll(tag)
          .catch((error: unknown) => console.error(String(error)))
          .then(() => {
            signalGroup(child, 'SIGKILL');
            this.#running.delete(child);
            // Jest drops a result's console calls once reporters have seen it; keep them with the output.
            const logged = 'result' in outcome ? (outcome.result.console ?? []) : [];
            const consoleLines = logged.map((entry) => `console.${entry.type}: ${entry.message}\n`).join('');
            suiteOutput.set(test.path, this.#display(consoleLines + withoutExitMarker(output)));
            if ('result' in outcome) resolve(this.#display(outcome.result));
            else if (progress.finished().length > 0)
              resolve(this.#display(partialResult(test, outcome.failure, progress)));
            else reject(new SuiteFailure(outcome.failure.kind, this.#display(outcome.failure.message)));
          });
      };
      const progress = new SuiteProgress();
      const fail = (kind: SuiteFailureKind, message: string): void => {
        const context = progress.describe();
        finish({ failure: new SuiteFailure(kind, context ? `${message}\n${context}` : message) });
      };

      const timer = setTimeout(
        () =>
          limitSeconds < ownLimitSeconds
            ? fail('out of time', this.#budgetReason('while this exercise was being graded'))
            : fail(
                'hung',
                `did not finish within its time limit of ${Math.round(limitSeconds)} s. Something never returned: a loop that ` +
                  `never ends, a promise that never settles, an Atomics.wait with no timeout, or a child process ` +
                  `that never exits. Everything it started has been killed.`,
              ),
        limitSeconds * 1000,
      );
      if (child.pid !== undefined) containment.watch(tag, child.pid, (reason) => fail('runaway', reason));

      child.on('message', (message: unknown) => {
        progress.observe(message);
        if (!isFileMessage(message)) return;
        if (message.kind === 'result') finish({ result: message.result as TestResult });
        else if (message.kind === 'uncaught') fail('crashed', describeUncaught(message.rejection, message.stack));
        else fail('crashed', `the suite could not run: ${message.stack}`);
      });
      child.on('error', (error) => fail('crashed', `the grading process could not start: ${error.message}`));
      child.on('exit', (code, signal) => {
        const decide = (): void => {
          const exitCode = exitCodeOf(output);
          if (exitCode !== undefined) {
            fail(
              'exited',
              `called process.exit(${exitCode}), which ended the grading process before the tests finished. ` +
                `A library or exercise must never exit the process it runs in: return a value, throw an ` +
                `error, or set process.exitCode in a program's entry file instead.`,
            );
          } else if (signal) {
            fail(
              'crashed',
              `the grading process was killed by ${signal} before the tests finished. Did the code send a ` +
                `signal to its own process (process.kill(process.pid) or process.kill(0)) instead of to a child?`,
            );
          } else {
            fail('crashed', `the grading process exited with code ${code} before the tests finished.`);
          }
        };
        // A result sent just before exiting, and the exit marker, may still be in flight: read the rest of
        // stderr first (a grandchild may hold it open, so wait no more than a moment).
        const stderr = child.stderr!;
        if (stderr.readableEnded) return void setImmediate(decide);
        const waited = setTimeout(decide, 200);
        stderr.once('end', () => {
          clearTimeout(waited);
          setImmediate(decide);
        });
      });
      child.send(job);
    });
  }
}

/**
 * The result of a suite that stopped after some of its tests finished: those tests as they ended, and the
 * reason it stopped as the suite's error (whose `type` the scorecard reads), so no finished test is lost.
 */
function partialResult(test: Test, failure: SuiteFailure, progress: SuiteProgress): TestResult {
  const testResults = progress.finished();
  const count = (status: string): number => testResults.filter((result) => result.status === status).length;
  return {
    ...createEmptyTestResult(),
    testFilePath: test.path,
    testResults,
    numPassingTests: count('passed'),
    numFailingTests: count('failed'),
    numPendingTests: count('pending') + count('skipped'),
    testExecError: { message: failure.message, stack: failure.message, type: failure.kind },
    failureMessage: failure.message,
  };
}

/** The exit code written after EXIT_MARKER, if graded code called process.exit. */
function exitCodeOf(output: string): string | undefined {
  const at = output.lastIndexOf(EXIT_MARKER);
  if (at === -1) return undefined;
  return /^-?\d+/.exec(output.slice(at + EXIT_MARKER.length))?.[0] ?? '?';
}

function withoutExitMarker(output: string): string {
  return output
    .split('\n')
    .filter((line) => !line.startsWith(EXIT_MARKER))
    .join('\n');
}

/** The report for an exception nothing caught: its message and where it was thrown, without Jest's frames. */
function describeUncaught(rejection: boolean, stack: string): string {
  const lines = stack.split('\n');
  const isFrame = (line: string): boolean => /^\s+at /.test(line);
  const message = lines
    .filter((line) => !isFrame(line))
    .join('\n')
    .trim();
  const where = lines
    .filter((line) => isFrame(line) && !/node_modules|node:internal|\(node:/.test(line) && !line.includes(__dirname))
    .map((line) => /\(?([^\s()]+:\d+:\d+)\)?$/.exec(line)?.[1])
    .filter((location): location is string => location !== undefined)
    .slice(0, 2)
    .map((location) => `thrown from ${path.relative(process.cwd(), location)}`);
  const what = rejection
    ? 'a promise was rejected and nothing handled the rejection'
    : 'an exception was thrown where nothing could catch it (in a timer, an event handler, or a worker with no "error" listener)';
  return [`${what}. In a plain Node program this ends the process.`, message, ...where].join('\n');
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}
