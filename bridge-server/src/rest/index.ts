import type { Router } from '../http/router.js';
import type { Accounts, WorkSessions } from '../services/index.js';
import { registerAccount } from './account.js';
import { registerAdmin } from './admin.js';
import { registerCatalogue } from './catalogue.js';
import { registerCloudSessions } from './cloud-sessions.js';
import { registerImages } from './images.js';
import { registerInfo } from './info.js';
import { registerJobs } from './jobs.js';
import { registerModels } from './models.js';
import type { TransportOptions } from './options.js';
import { registerProjects } from './projects.js';
import { registerZarr } from './zarr.js';

export { attachment } from './download.js';
export type { TransportOptions } from './options.js';

/** The REST API under /api/ and the OME-Zarr files under /zarr/. */
export function registerRest(router: Router, o: TransportOptions): void {
  registerInfo(router, o);
  registerProjects(router, o);
  registerImages(router, o);
  registerJobs(router, o);
  registerModels(router, o);
  registerCatalogue(router, o);
  registerZarr(router, o);
}

/** A multi-user bridge's routes: sign-in, account and tokens, admin, and the cloud plugin's work sessions. */
export function registerAccounts(router: Router, accounts: Accounts, sessions: WorkSessions): void {
  registerAccount(router, accounts);
  registerAdmin(router, accounts);
  registerCloudSessions(router, accounts, sessions);
}
