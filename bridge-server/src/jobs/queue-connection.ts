import type { ConnectionOptions } from 'bullmq';

/** Where bridges, workers and farmed inferences meet on Redis. */
export const JOB_QUEUE = 'impartial-jobs';
/** Cancellations, by job id, to whichever worker holds the job. */
export const CANCEL_CHANNEL = 'impartial:cancel';
/** Cancellations asked on one bridge node, by job id, to the node that handles the job. */
export const CANCEL_ASK_CHANNEL = 'impartial:cancel-ask';

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
