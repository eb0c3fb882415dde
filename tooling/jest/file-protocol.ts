/** Messages between the isolated runner and the process that runs one grading suite. */
export interface FileJob {
  setup: { serializableResolvers: unknown[] };
  work: { config: unknown; globalConfig: unknown; path: string; context: unknown };
}

export type FileMessage =
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; message: string; stack: string }
  /** An exception nothing caught, or a rejection nothing handled: in plain Node, the end of the process. */
  | { kind: 'uncaught'; rejection: boolean; stack: string };

/**
 * Written to the suite process's stderr, synchronously, when anything in it calls process.exit; followed
 * by the exit code. Begins with a NUL so that no program output can be mistaken for it.
 */
export const EXIT_MARKER = '\u0000workbook: process.exit ';

export function isFileMessage(message: unknown): message is FileMessage {
  return typeof message === 'object' && message !== null && 'kind' in message;
}
