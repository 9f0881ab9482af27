import type { TrainProgress } from '@impartial/shared';

/** What a task in a worker is given: its stop signal, and where its progress and log lines go. */
export interface TaskHooks {
  signal: AbortSignal;
  progress(p: TrainProgress): void;
  log(line: string): void;
}
