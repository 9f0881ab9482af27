import type { ImportRecord } from '@impartial/shared/protocol';

/** How long a finished import stays listed (so that a page polling now and then sees it end). */
const KEEP_FINISHED_MS = 10 * 60_000;

/**
 * Imports in progress and recently finished, for GET /api/imports (in memory: a restart drops them
 * with their temp folders).
 */
export class ImportRegistry {
  private readonly items = new Map<string, ImportRecord>();

  start(id: string, project: string, name: string, size: { width: number; height: number; channels: number }): void {
    this.items.set(id, {
      id,
      project,
      name,
      ...size,
      rowsDone: 0,
      rows: size.height,
      status: 'running',
      error: null,
      started: new Date().toISOString(),
      finished: null,
    });
  }

  progress(id: string, rowsDone: number): void {
    const item = this.items.get(id);
    if (item) item.rowsDone = rowsDone;
  }

  finish(id: string, error?: Error): void {
    const item = this.items.get(id);
    if (!item) return;
    Object.assign(item, {
      status: error ? 'failed' : 'done',
      error: error?.message ?? null,
      finished: new Date().toISOString(),
    });
    if (!error) item.rowsDone = item.rows;
  }

  list(project?: string): ImportRecord[] {
    const cutoff = Date.now() - KEEP_FINISHED_MS;
    for (const [id, item] of this.items) if (item.finished && Date.parse(item.finished) < cutoff) this.items.delete(id);
    return [...this.items.values()].filter((i) => !project || i.project === project).map((i) => ({ ...i }));
  }
}
