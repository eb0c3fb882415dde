/**
 * A Jest test runner that runs every grading suite in a fresh child process in its own process group,
 * with a wall-clock limit taken from the manifest. When the suite reports, or the limit passes, or the
 * process dies, the whole group is killed: nothing the graded code started outlives its suite.
 *
 * The outcome of a suite that did not report is a Jest "test exec error" whose `type` says why
 * (see `SuiteFailure`), so the scorecard can call it hung, exited or crashed.
 */
import type { ChildProcess } from 'node:child_process';
import type { TestResult } from '@jest/test-result';
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
import { DEFAULT_TIME_LIMIT_SECONDS, exerciseIdOfTestFile, loadManifest } from '../manifest';
import { SuiteFailure, type SuiteFailureKind } from '../suite-failure';
import type { FileJob, FileMessage } from './file-protocol';
import { SuiteProgress } from './suite-progress';
import { coolDown, takeProcess, warmUp } from './warm-processes';

/** How much of a suite's own stdout/stderr is kept to explain a crash. */
const OUTPUT_TAIL_BYTES = 4000;

type Listener<Name extends keyof TestEvents> = (eventData: TestEvents[Name]) => void | Promise<void>;

export default class IsolatedRunner extends EmittingTestRunner {
  readonly #listeners = new Map<keyof TestEvents, Set<Listener<keyof TestEvents>>>();
  readonly #running = new Set<ChildProcess>();
  readonly #timeLimits: Map<string, number>;

  constructor(globalConfig: Config.GlobalConfig, context: TestRunnerContext) {
    super(globalConfig, context);
    this.#timeLimits = new Map(loadManifest().exercises.map((exercise) => [exercise.id, exercise.timeLimitSeconds]));
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
      if (state.interrupted) for (const child of this.#running) killGroup(child);
    });
    const queue = [...tests];
    const lanes = Math.max(1, Math.min(this._globalConfig.maxWorkers, queue.length));
    const lane = async (): Promise<void> => {
      for (let test = queue.shift(); test; test = queue.shift()) {
        if (watcher.isInterrupted()) return;
        await this.#emit('test-file-start', [test]);
        try {
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
    warmUp(lanes);
    try {
      await Promise.all(Array.from({ length: lanes }, lane));
    } finally {
      coolDown();
    }
  }

  #runInOwnProcess(test: Test, keepWarm: number): Promise<TestResult> {
    const exerciseId = exerciseIdOfTestFile(test.path);
    const limitSeconds = (exerciseId && this.#timeLimits.get(exerciseId)) || DEFAULT_TIME_LIMIT_SECONDS;
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
        killGroup(child);
        this.#running.delete(child);
        if ('result' in outcome) resolve(outcome.result);
        else reject(outcome.failure);
      };
      const progress = new SuiteProgress();
      const fail = (kind: SuiteFailureKind, message: string): void => {
        const context = progress.describe();
        finish({ failure: new SuiteFailure(kind, context ? `${message}\n${context}` : message, output) });
      };

      const timer = setTimeout(
        () =>
          fail(
            'hung',
            `did not finish within its time limit of ${limitSeconds} s. Something never returned: a loop that ` +
              `never ends, a promise that never settles, an Atomics.wait with no timeout, or a child process ` +
              `that never exits. Everything it started has been killed.`,
          ),
        limitSeconds * 1000,
      );

      child.on('message', (message: FileMessage | unknown) => {
        progress.observe(message);
        if (!isFileMessage(message)) return;
        if (message.kind === 'result') finish({ result: message.result as TestResult });
        else fail('crashed', `the suite could not run: ${message.stack}`);
      });
      child.on('error', (error) => fail('crashed', `the grading process could not start: ${error.message}`));
      child.on('exit', (code, signal) => {
        // Give the IPC channel a moment to deliver a result sent just before exiting.
        setImmediate(() => {
          const exitCall = /process\.exit called with "([^"]*)"/.exec(output);
          if (exitCall) {
            fail(
              'exited',
              `called process.exit(${exitCall[1]}), which ended the grading process before the tests finished.`,
            );
          } else if (signal) {
            fail('crashed', `the grading process was killed by ${signal} before the tests finished.`);
          } else {
            fail('crashed', `the grading process exited with code ${code} before the tests finished.`);
          }
        });
      });
      child.send(job);
    });
  }
}

function isFileMessage(message: unknown): message is FileMessage {
  return typeof message === 'object' && message !== null && 'kind' in message;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}
