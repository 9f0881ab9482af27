import type { ModelLineage, TrainProgress } from '@impartial/shared';
import type { InferTaskSpec, TileResult } from './infer-task.js';
import type { LiveEvent } from './live-training.js';
import type { TileMapsSpec } from './tile-maps.js';
import type { TrainTaskSpec } from './train-task.js';

/** What a job's worker thread runs. */
export type TaskSpec = TrainTaskSpec | InferTaskSpec | TileMapsSpec;

/** What a job's worker thread tells the bridge. */
export type WorkerEvent =
  | { type: 'log'; line: string }
  | { type: 'train-progress'; progress: TrainProgress }
  | { type: 'train-done'; lineage: ModelLineage; steps: number; seconds: number; cancelled: boolean; saved: boolean }
  | { type: 'tile'; tile: TileResult; done: number; total: number }
  | { type: 'infer-done'; cells: number; meanEntropy: number; tiles: TileResult[]; cancelled: boolean }
  | { type: 'maps-done'; written: boolean }
  | LiveEvent
  | { type: 'error'; message: string };
