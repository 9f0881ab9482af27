import type { Router } from '../http/router.js';
import type { Services } from '../services/index.js';
import { registerFijiActions } from './action-routes.js';
import { FijiRequests } from './context.js';
import { registerFijiFiles } from './file-routes.js';
import { registerFijiSession } from './session-routes.js';

export { sendFijiError } from './encoding.js';

/**
 * The ImageJ/Fiji macro routes (documented in shared/src/protocol/fiji.ts): GETs only, key=value
 * replies, idempotent under ImageJ's doubled requests, file URLs that end in .tif.
 */
export function registerFiji(router: Router, services: Services, token: string | null): void {
  const f = new FijiRequests(services, token ? `/t/${encodeURIComponent(token)}` : '', services.accounts !== null);
  registerFijiSession(router, f);
  registerFijiActions(router, f);
  registerFijiFiles(router, f);
}
