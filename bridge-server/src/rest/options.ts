import type { Services } from '../services/index.js';

/** What the HTTP transports need besides the services: where uploads land, and request budgets. */
export interface TransportOptions {
  services: Services;
  /** Folder for uploads in progress (removed on every path: success, refusal, error). */
  tempDir: string;
  maxUploadBytes: number;
  maxJsonBytes: number;
}
