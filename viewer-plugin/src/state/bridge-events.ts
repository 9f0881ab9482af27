import type { PredictionRecord, Rect, ServerMessage } from '@impartial/shared/protocol';
import type { BridgeClient } from '../bridge-client.js';
import { viewerEvent } from '../events.js';
import { followLayers, type LayerSettings } from '../layers/settings.js';
import type { TrainingView } from '../panels/training.js';
import { clampView, type View } from './view.js';

/** The element state that the bridge's messages change, and what they make the element do. */
export interface BridgeEventTarget {
  readonly client: BridgeClient | null;
  status: string;
  training: string;
  panel: TrainingView;
  follow: boolean;
  view: View;
  layers: LayerSettings;
  /** Set when this viewer asked for training: it then asks for the new model's prediction. */
  trainingRequested: boolean;
  /** Who else is on the image (names of the other connected viewers and scripts). */
  others: string[];
  redraw(): void;
  requestUpdate(): void;
  showPrediction(record: PredictionRecord, tiles?: readonly Rect[]): Promise<void>;
  predict(): void;
  /** No model yet: asks for the shipped starting model's prediction of what is in view. */
  firstLook(): void;
  /** Loads the catalogue panel again (the current model changed: it may be published). */
  refreshCatalogue(): void;
  dispatchEvent(event: Event): boolean;
}

type Message<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
type Handlers = { [T in ServerMessage['type']]?: (v: BridgeEventTarget, m: Message<T>) => void };

/** The status line: strokes waiting to be saved, or how many are saved. */
export function saveStatus(client: BridgeClient | null): string {
  const n = client?.drawings.length ?? 0;
  return client?.pending.size ? `saving ${client.pending.size} stroke(s)...` : `saved · ${n} stroke(s)`;
}

function trainingText(m: Message<'train-progress'>, live: boolean): string {
  if (live) return `live: step ${m.step}, loss ${m.loss.toFixed(3)}, ${m.stepsPerSecond.toFixed(1)} steps/s`;
  const steps = m.steps ? `/${m.steps}` : '';
  const rate = `${m.stepsPerSecond.toFixed(1)} steps/s`;
  const eta = `ETA ${Math.max(0, Math.round(m.etaSeconds))} s`;
  return `training: step ${m.step}${steps}, loss ${m.loss.toFixed(3)}, ${rate}, ${eta}`;
}

/** What each server message does; messages not named here change nothing. */
const HANDLERS: Handlers = {
  welcome: (v, m) => {
    v.panel = { ...v.panel, models: m.models, current: m.currentModel };
    v.refreshCatalogue();
    v.redraw();
    if (m.prediction) void v.showPrediction(m.prediction);
    else if (!m.currentModel) v.firstLook();
  },
  view: (v, m) => {
    if (!v.follow) return;
    v.view = clampView({ target: [m.view.x, m.view.y, 0], zoom: m.view.zoom });
    // Shared layer state: what the followed viewer shows, this one shows.
    if (m.view.layers) {
      v.layers = followLayers(v.layers, m.view.layers);
      v.requestUpdate();
    }
    v.redraw();
  },
  presence: (v, m) => {
    const own = v.client?.clientId;
    v.others = m.clients.filter((c) => c.clientId !== own).map((c) => c.name);
  },
  suggestions: (v, m) => {
    v.panel = { ...v.panel, suggestions: m.tiles };
  },
  job: (v, m) => {
    if (m.job.kind !== 'train') return;
    const running = m.job.status === 'running' || m.job.status === 'queued';
    const live = running && (m.job.result as { live?: boolean } | null)?.live === true;
    v.panel = { ...v.panel, running, live };
    // A shared bridge runs a few jobs at once: a waiting training says its place in line.
    const place = m.job.progress.position;
    if (m.job.status === 'queued' && place !== undefined) v.training = `training waits in line: place ${place}`;
  },
  entry: (v, m) => {
    v.status = saveStatus(v.client);
    v.redraw();
    v.dispatchEvent(viewerEvent('stroke', m.entry));
  },
  'train-progress': (v, m) => {
    v.training = trainingText(m, v.panel.live);
    const losses = [...v.panel.losses, { step: m.step, loss: m.loss }].slice(-500);
    v.panel = { ...v.panel, running: true, text: v.training, losses };
    v.dispatchEvent(viewerEvent('training-progress', m));
  },
  model: (v, m) => {
    v.training = `model ${m.model.id} (${m.model.steps} steps)`;
    const models = [...v.panel.models.filter((x) => x.id !== m.model.id), m.model];
    const current = m.current ? m.model.id : v.panel.current;
    v.panel = { ...v.panel, running: false, live: false, text: v.training, models, current };
    if (m.current) v.refreshCatalogue();
    // The viewer that asked for the training asks for the prediction; the others receive its tiles.
    if (v.trainingRequested) {
      v.trainingRequested = false;
      v.predict();
    }
  },
  tiles: (v, m) => {
    if (m.live) v.training = `live: view predicted after step ${m.live.step}`;
    void v.showPrediction(m.prediction, m.tiles);
  },
  'infer-progress': (v, m) => {
    v.training = m.done < m.total ? `predicting: ${m.done}/${m.total} tiles` : `prediction done (${m.total} tiles)`;
  },
  error: (v, m) => {
    v.status = `bridge: ${m.message}`;
  },
};

/** Makes the element follow its bridge client: its messages, and its connection in the status line. */
export function listenToBridge(client: BridgeClient, v: BridgeEventTarget): void {
  client.addEventListener('connection', (e) => {
    v.status = (e as CustomEvent<{ connected: boolean }>).detail.connected ? saveStatus(v.client) : 'reconnecting...';
  });
  for (const [type, handle] of Object.entries(HANDLERS))
    client.addEventListener(type, (e) =>
      (handle as (v: BridgeEventTarget, m: unknown) => void)(v, (e as CustomEvent).detail),
    );
}
