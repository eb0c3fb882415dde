/** Messages between the isolated runner and the process that runs one grading suite. */
export interface FileJob {
  setup: { serializableResolvers: unknown[] };
  work: { config: unknown; globalConfig: unknown; path: string; context: unknown };
}

export type FileMessage = { kind: 'result'; result: unknown } | { kind: 'error'; message: string; stack: string };
