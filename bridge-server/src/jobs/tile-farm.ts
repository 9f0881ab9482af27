import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Rect } from '@impartial/shared';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { DataFiles } from '../store/files.js';
import { CANCEL_CHANNEL, JOB_QUEUE, redisConnection } from './queue-connection.js';
import { decodeMaps, type TileMaps, type TileMapsSpec } from './tile-maps.js';

/*
 * One inference spread over the workers. The worker running the job cuts and stitches the cells,
 * tile by tile in the order of its plan, as alone; the net's maps of the tiles (the costly part)
 * are shared out: every share but the first goes to the queue as a `tile-maps` job that any idle
 * worker takes. While the next share in the plan is with another worker, this one takes back a
 * later share still waiting and computes it; a share whose worker fails or dies comes back here.
 * The cut sees the same maps in the same order as on one worker, so the cells are the same.
 */

/** How the job's worker reaches the queue to share out its tiles. */
export interface FarmSpec {
  queue: string;
  /** The inference job: shares are named after it. */
  job: string;
  priority: number;
  /** An earlier attempt of the job ran (its worker died): what it left is cleared first. */
  retry: boolean;
}

/** Tiles per share: a share's thread start and model load (~1 s) stay small beside its tiles. */
export const SHARE_TILES = 2;
/** How often a share with another worker is looked at again (its worker may have died). */
const RECHECK_MS = 1000;

interface Share {
  id: string;
  rects: Rect[];
  out: string;
  maps?: TileMaps[];
  /** Computed here: never queued, or taken back from the queue. */
  local: boolean;
}

type Ending = 'completed' | 'failed';

export class TileFarm {
  private readonly ended = new Map<string, Ending>();
  private readonly waiters = new Map<string, (e: Ending) => void>();
  private readonly shares = new Set<Share>();
  private readonly tag = randomBytes(3).toString('hex');
  private count = 0;
  /** Shares computed by other workers (for the log). */
  remote = 0;

  private constructor(
    private readonly farm: FarmSpec,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly files: DataFiles,
    private readonly base: Omit<TileMapsSpec, 'kind' | 'rects' | 'passes' | 'out'>,
    private readonly dir: string,
  ) {
    const end = (jobId: string, e: Ending) => {
      this.ended.set(jobId, e);
      this.waiters.get(jobId)?.(e);
    };
    events.on('completed', ({ jobId }) => end(jobId, 'completed'));
    events.on('failed', ({ jobId }) => end(jobId, 'failed'));
  }

  static async open(
    farm: FarmSpec,
    files: DataFiles,
    base: Omit<TileMapsSpec, 'kind' | 'rects' | 'passes' | 'out'>,
    dir: string,
  ): Promise<TileFarm> {
    const connection = redisConnection(farm.queue);
    const queue = new Queue(JOB_QUEUE, { connection });
    const events = new QueueEvents(JOB_QUEUE, { connection });
    // Listening before any share is added: none of their endings is missed.
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const tileFarm = new TileFarm(farm, queue, events, files, base, dir);
    // Only a retry has leftovers: a first attempt does not scan the queue for them.
    if (farm.retry) await tileFarm.dropEarlierAttempts();
    return tileFarm;
  }

  /**
   * The job ran before on a worker that died: the shares it queued and that no worker took yet are
   * removed, those under way are cancelled, and the maps they wrote go (no one will read them).
   */
  private async dropEarlierAttempts(): Promise<void> {
    const prefix = `${this.farm.job}.`;
    const earlier = (await this.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'])).filter(
      (j) => j.id?.startsWith(prefix) && j.name === 'tile-maps',
    );
    for (const job of earlier) {
      const removed = await job.remove().then(
        () => true,
        () => false, // locked by a worker meanwhile
      );
      if (!removed) await this.cancel(job.id!);
    }
    await this.files.remove(this.dir).catch(() => {});
  }

  /**
   * The maps of `rects`, in their order; `compute` makes one here. Stops early (returns) when
   * `signal` aborts.
   */
  async *maps(
    rects: Rect[],
    passes: number,
    compute: (r: Rect) => Promise<TileMaps>,
    signal: AbortSignal,
  ): AsyncGenerator<TileMaps> {
    const shares: Share[] = [];
    for (let i = 0; i < rects.length; i += SHARE_TILES) {
      const id = `${this.farm.job}.${this.tag}.${this.count++}`;
      shares.push({
        id,
        rects: rects.slice(i, i + SHARE_TILES),
        out: path.join(this.dir, `${id}.f32`),
        local: i === 0,
      });
    }
    for (const s of shares) this.shares.add(s);
    await this.queue.addBulk(
      shares
        .filter((s) => !s.local)
        .map((s) => {
          const spec: TileMapsSpec = { kind: 'tile-maps', ...this.base, rects: s.rects, passes, out: s.out };
          const opts = {
            jobId: s.id,
            priority: this.farm.priority,
            attempts: 1,
            removeOnComplete: 100,
            removeOnFail: 100,
          };
          return { name: 'tile-maps', data: { spec }, opts };
        }),
    );
    const here = async (s: Share) => {
      const maps: TileMaps[] = [];
      for (const r of s.rects) {
        if (signal.aborted) return;
        maps.push(await compute(r));
      }
      s.maps = maps;
    };
    for (const [i, s] of shares.entries()) {
      while (!s.maps) {
        if (signal.aborted) return;
        if (s.local || (await this.takeBack(s))) {
          await here(s);
          continue;
        }
        const ending = this.ended.get(s.id);
        if (ending) {
          s.maps = (ending === 'completed' ? await this.read(s) : null) ?? undefined;
          if (!s.maps)
            s.local = true; // failed, or cancelled before it wrote: made here
          else this.remote++;
          continue;
        }
        // With another worker: meanwhile, a later share still waiting is made here.
        const later = await this.firstTakenBack(shares.slice(i + 1));
        if (later) await here(later);
        else await this.endOf(s.id);
      }
      for (const m of s.maps) yield m;
      this.shares.delete(s);
      s.maps = [];
    }
  }

  /** A share still waiting in the queue comes out of it to be made here. */
  private async takeBack(s: Share): Promise<boolean> {
    if (s.local) return true;
    const job = await Job.fromId(this.queue, s.id);
    if (!job || !['waiting', 'prioritized', 'delayed', 'wait'].includes(await job.getState())) return false;
    try {
      await job.remove(); // refused when a worker has just locked it
    } catch {
      return false;
    }
    s.local = true;
    return true;
  }

  private async firstTakenBack(candidates: Share[]): Promise<Share | null> {
    for (const s of candidates) {
      if (s.maps || s.local || this.ended.has(s.id)) continue;
      if (await this.takeBack(s)) return s;
    }
    return null;
  }

  private async read(s: Share): Promise<TileMaps[] | null> {
    const bytes = await this.files.getBlob(s.out);
    return bytes ? decodeMaps(bytes, s.rects) : null;
  }

  /** Resolves when the share's job ends, or after RECHECK_MS (its worker may have died: look again). */
  private endOf(id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, RECHECK_MS);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.set(id, () => {
        this.waiters.delete(id);
        done();
      });
    });
  }

  /** Takes back what still waits, stops what runs, and removes the shares' maps. */
  async close(): Promise<void> {
    const open = [...this.shares].filter((s) => !s.local && !this.ended.has(s.id));
    for (const s of open) if (!(await this.takeBack(s))) await this.cancel(s.id);
    await Promise.all([this.events.close(), this.queue.close()]).catch(() => {});
    await this.files.remove(this.dir).catch(() => {});
  }

  private async cancel(id: string): Promise<void> {
    const pub = new Redis(this.farm.queue, { maxRetriesPerRequest: 1 });
    pub.on('error', () => {}); // the share ends on its own, a little later
    await pub.publish(CANCEL_CHANNEL, id).catch(() => {});
    pub.disconnect();
  }
}
