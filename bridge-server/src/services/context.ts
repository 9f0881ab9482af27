import type { Hub } from '../hub/hub.js';
import type { ImportLimits } from '../imaging/sources/index.js';
import type { JobManager } from '../jobs/manager.js';
import type { Store } from '../store/store.js';
import type { StrokeLog } from '../store/strokes/stroke-log.js';
import type { Access } from './access.js';

/** What the services work through: the store, the stroke log, the jobs, the hub that publishes, and the rules. */
export interface ServiceContext {
  store: Store;
  strokes: StrokeLog;
  jobs: JobManager;
  hub: Hub;
  access: Access;
  version: string;
  limits: ImportLimits;
}
