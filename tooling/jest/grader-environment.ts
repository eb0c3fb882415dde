/**
 * The environment every graded process runs with. TypeScript entry files that graded code starts
 * (worker threads, child processes) load with no set-up by the learner, because a hook that registers
 * tsx on demand is preloaded through NODE_OPTIONS, which every Node process and worker thread started
 * below inherits. WORKBOOK_TIME_SCALE tells the suites' deadlines how much to stretch on this machine.
 */
import path from 'node:path';

const TSX_HOOK = path.join(__dirname, 'typescript-on-demand.cjs');

export function tsxNodeOptions(existing = process.env.NODE_OPTIONS ?? ''): string {
  if (existing.includes(TSX_HOOK)) return existing;
  return `${existing} --require ${JSON.stringify(TSX_HOOK)}`.trim();
}

/** The variables graded processes need, on top of the caller's environment. */
export function graderEnvironment(timeScale: number): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: tsxNodeOptions(),
    // tsx compiles with the workbook's tsconfig, wherever the graded tree lives.
    TSX_TSCONFIG_PATH: path.resolve(__dirname, '../../tsconfig.json'),
    WORKBOOK_TIME_SCALE: String(timeScale),
  };
}
