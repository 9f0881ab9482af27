import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdamState, ImpartialModel } from '@impartial/shared';
import { loadModelDir, saveModelDir } from '@impartial/shared/node';
import type { DataFiles } from '../store/files.js';

/*
 * Training checkpoints: the weights, how far the training got and Adam's state, in one folder
 * written whole beside the last one and swapped in. A queued training taken over by another worker
 * and `impartial pretrain --resume` go on from one.
 */

/** The parent's lineage, steps and seconds a checkpoint has done (its progress.json). */
export interface Progress {
  parent: ImpartialModel['lineage'] | null;
  steps: number;
  seconds: number;
}

/** Where a checkpointed training stood: its weights, progress and Adam's state (null: an older checkpoint). */
export interface Resumed extends Progress {
  model: ImpartialModel;
  optimizer: AdamState | null;
}

const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';

/** optimizer.json: the step count and, in optimizer.bin's order, each weight's name and length. */
interface OptimizerIndex {
  steps: number;
  /** optimizer.bin holds, per weight in this order, its m then its v: little-endian float32. */
  weights: Array<{ name: string; length: number }>;
}

async function writeOptimizerState(dir: string, state: AdamState): Promise<void> {
  const weights = Object.entries(state.moments).map(([name, { m }]) => ({ name, length: m.length }));
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.length * 8, 0));
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const { name } of weights) {
    const { m, v } = state.moments[name]!;
    for (const array of [m, v]) {
      for (let i = 0; i < array.length; i++, at += 4) view.setFloat32(at, array[i]!, true);
    }
  }
  const index: OptimizerIndex = { steps: state.steps, weights };
  await writeFile(path.join(dir, OPTIMIZER_BIN), bytes);
  await writeFile(path.join(dir, OPTIMIZER_JSON), JSON.stringify(index));
}

/** Adam's state in a checkpoint folder; null when it has none (written before checkpoints carried it). */
async function readOptimizerState(dir: string): Promise<AdamState | null> {
  let index: OptimizerIndex;
  try {
    index = JSON.parse(await readFile(path.join(dir, OPTIMIZER_JSON), 'utf8')) as OptimizerIndex;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const bytes = await readFile(path.join(dir, OPTIMIZER_BIN));
  const expected = index.weights.reduce((n, w) => n + w.length * 8, 0);
  if (bytes.byteLength !== expected)
    throw new Error(`${OPTIMIZER_BIN} has ${bytes.byteLength} bytes, ${OPTIMIZER_JSON} lists ${expected}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const moments: AdamState['moments'] = {};
  let at = 0;
  const next = (length: number) => {
    const array = new Float32Array(length);
    for (let i = 0; i < length; i++, at += 4) array[i] = view.getFloat32(at, true);
    return array;
  };
  for (const { name, length } of index.weights) {
    const m = next(length);
    moments[name] = { m, v: next(length) };
  }
  return { steps: index.steps, moments };
}

export async function resumedFrom(dir: string, files: DataFiles, log: (line: string) => void): Promise<Resumed | null> {
  let done: Progress, model: ImpartialModel;
  try {
    if (!(await files.refresh(dir))) return null;
    done = JSON.parse(await readFile(path.join(dir, 'progress.json'), 'utf8')) as Progress;
    model = await loadModelDir(dir);
  } catch {
    return null;
  }
  // The weights are worth going on from even when Adam's state cannot be read: fresh moments then.
  const optimizer = await readOptimizerState(dir).catch((e: Error) => {
    log(`the checkpoint's optimiser state is unreadable (${e.message}); going on with fresh moments`);
    return null;
  });
  return { ...done, model, optimizer };
}

export async function saveCheckpoint(
  dir: string,
  model: ImpartialModel,
  done: Progress,
  optimizer: AdamState,
  files: DataFiles,
): Promise<void> {
  // Written whole beside it, then swapped in: a kill during the write leaves the previous one.
  const tmp = `${dir}.writing`;
  await rm(tmp, { recursive: true, force: true });
  await saveModelDir(model, tmp);
  await writeOptimizerState(tmp, optimizer);
  await writeFile(path.join(tmp, 'progress.json'), JSON.stringify(done));
  await rm(`${dir}.old`, { recursive: true, force: true });
  await rename(dir, `${dir}.old`).catch(() => {});
  await rename(tmp, dir);
  await rm(`${dir}.old`, { recursive: true, force: true });
  await files.publish(dir);
}

/** The patch sampler's seed after `steps` done: `seed` for a fresh training, another stream per resume point. */
export function resumedSeed(seed: number, steps: number): number {
  return steps === 0 ? seed : (seed ^ Math.imul(steps, 0x9e3779b1)) >>> 0;
}
