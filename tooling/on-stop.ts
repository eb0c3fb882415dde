/**
 * Clean-up for scripts stopped early (Ctrl-C, a kill): runs `cleanup`, then lets the same signal end the
 * process as it would have without the handler.
 */
export function onStop(cleanup: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}
