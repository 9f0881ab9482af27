import type { Rect, TrainRequest } from '@impartial/shared/protocol';
import type { BridgeClient } from '../bridge-client.js';
import type { TrainingActions, TrainingView } from '../panels/training.js';

/** What the training panel's buttons read and change on the element. */
export interface TrainingTarget {
  readonly client: BridgeClient | null;
  panel: TrainingView;
  status: string;
  trainingRequested: boolean;
  readonly trainChannels: ReadonlySet<number>;
  readonly channels: readonly unknown[];
  readonly trainOptions: Record<string, unknown>;
  predict(passes?: number, dropout?: boolean): void;
  flyTo(rect: Rect): void;
  /** The part of the image on screen; undefined before the first frame. */
  visible(): Rect | undefined;
}

/** The training panel's buttons: train, stop, make a model version current, predict, go to a suggestion. */
export function trainingActions(v: TrainingTarget): TrainingActions {
  // This viewer predicts the new version whole once it is saved (after Train, or live mode switched off).
  const start = (request: TrainRequest) => {
    v.panel = { ...v.panel, losses: [] };
    v.trainingRequested = true;
    // All channels is the bridge's default: the request names them only when some are left out.
    const all = v.trainChannels.size === v.channels.length;
    const channels = all ? {} : { channels: [...v.trainChannels].sort((a, b) => a - b) };
    v.client?.train({ ...request, ...channels, ...v.trainOptions });
  };
  return {
    train: (options) => start(options),
    stop: () => v.client?.stopTraining(),
    live: (on, options) => {
      const image = v.client?.image;
      if (!on || !image) {
        v.client?.stopTraining();
        return;
      }
      const viewport = v.visible();
      start({ ...options, live: { image, ...(viewport ? { viewport } : {}) } });
    },
    choose: (model) => {
      v.client?.setCurrentModel(model).then(
        () => v.predict(),
        (e: Error) => {
          v.status = e.message;
        },
      );
    },
    predict: (passes, dropout) => v.predict(passes, dropout),
    flyTo: (r) => v.flyTo(r),
  };
}
