import type { Router } from '../http/router.js';
import type { TransportOptions } from '../rest/index.js';
import { MonaiApp, type MonaiProjects } from './app.js';
import { registerMonaiDatastore } from './datastore-routes.js';
import { registerMonaiInference } from './infer-routes.js';
import { registerMonaiInfo } from './info-routes.js';
import { registerMonaiModels } from './model-routes.js';
import { registerMonaiTraining } from './train-routes.js';

export { fixedMonaiProject, type MonaiProjects } from './app.js';
export { registerMonaiAuth } from './auth-routes.js';
export { MONAI_TRAINER_DEFAULTS } from './train-routes.js';

/** MONAI Label's REST API on the bridge's port; `projects` says which project is a caller's datastore. */
export function registerMonai(router: Router, o: TransportOptions, projects: MonaiProjects): void {
  const app = new MonaiApp(o.services, projects);
  registerMonaiInfo(router, app);
  registerMonaiDatastore(router, app, o.tempDir, o.maxUploadBytes);
  registerMonaiTraining(router, app);
  registerMonaiInference(router, app, o.tempDir);
  registerMonaiModels(router, app, o.tempDir);
}
