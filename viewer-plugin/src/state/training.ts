import type { Rect } from '@impartial/shared/protocol';
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
  predict(passes?: number): void;
  flyTo(rect: Rect): void;
  /** The part of the image on screen; undefined before the first frame. */
  visible(): Rect | undefined;
}

/** The training panel's buttons: train, stop, make a model version current, predict, go to a suggestion. */
export function trainingActions(v: TrainingTarget): TrainingActions {
  return {
    train: (options) => {
      v.panel = { ...v.panel, losses: [] };
      v.trainingRequested = true;
      // All channels is the bridge's default: the request names them only when some are left out.
      const all = v.trainChannels.size === v.channels.length;
      const channels = all ? {} : { channels: [...v.trainChannels].sort((a, b) => a - b) };
      v.client?.train({ ...options, ...channels, ...v.trainOptions });
    },
    stop: () => v.client?.stopTraining(),
    live: (on, options) => {
      if (!on) {
        v.client?.stopTraining();
        return;
      }
      v.panel = { ...v.panel, losses: [] };
      // Its version, once switched off, is predicted whole by this viewer (as after Train).
      v.trainingRequested = true;
      const all = v.trainChannels.size === v.channels.length;
      const channels = all ? {} : { channels: [...v.trainChannels].sort((a, b) => a - b) };
      const viewport = v.visible();
      const image = v.client?.image;
      if (!image) return;
      v.client?.train({
        ...options,
        ...channels,
        ...v.trainOptions,
        live: { image, ...(viewport ? { viewport } : {}) },
      });
    },
    choose: (model) => {
      v.client?.setCurrentModel(model).then(
        () => v.predict(),
        (e: Error) => {
          v.status = e.message;
        },
      );
    },
    predict: (passes) => v.predict(passes),
    flyTo: (r) => v.flyTo(r),
  };
}
