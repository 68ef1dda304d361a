// A cancelled workflow sends SIGTERM (Ctrl-C sends SIGINT): long waits on remote work end through an AbortSignal,
// so that the remote work can be cancelled or marked, rather than left behind by a killed process.

export interface SignalAbort {
  signal: AbortSignal;
  /** Stops listening (the process keeps its default handling of the signals again). */
  dispose(): void;
}

/** An AbortSignal that aborts on SIGINT or SIGTERM; `onSignal` says what is being stopped. */
export function abortOnSignals(onSignal: (signal: NodeJS.Signals) => void): SignalAbort {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    onSignal(signal);
    controller.abort();
  };
  process.once('SIGINT', handler).once('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => void process.off('SIGINT', handler).off('SIGTERM', handler),
  };
}
