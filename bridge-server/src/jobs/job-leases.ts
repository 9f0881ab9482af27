import type { Redis } from 'ioredis';

/** How long a node's hold on a job lasts unless renewed: a node killed with SIGKILL loses its jobs after it. */
export const LEASE_MS = 10_000;

const key = (jobId: string) => `impartial:job-handler:${jobId}`;

/** Renews a hold that is this node's (or has lapsed); answers 0 when another node holds it now. */
const RENEW = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * Which bridge node handles each job (records its events, settles it, runs its line): a hold in
 * Redis that the node renews while it lives. A job whose hold has lapsed is claimed by another node,
 * which takes it over from the queue (or fails it, if it was only in the dead node's line).
 */
export class JobLeases {
  constructor(
    private readonly redis: Redis,
    private readonly node: string,
    private readonly ttlMs = LEASE_MS,
  ) {}

  /** Takes a job that no node holds; false when another does. */
  async claim(jobId: string): Promise<boolean> {
    return (await this.redis.set(key(jobId), this.node, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Renews this node's holds; returns the jobs another node has taken meanwhile (this one stalled). */
  async renew(jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.eval(RENEW, 1, key(id), this.node, this.ttlMs);
    const answers = (await pipeline.exec()) ?? [];
    return jobIds.filter((_, k) => answers[k]?.[1] === 0);
  }

  /** Lets a job go at once (this node stops): another node takes it at its next look. */
  async release(jobIds: string[]): Promise<void> {
    if (jobIds.length) await this.redis.del(...jobIds.map(key));
  }
}
