import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adaptChannels } from '../engine/channels.js';
import type { ImpartialModel } from '../engine/model.js';
import { disposeWeights } from '../engine/unet.js';
import { loadModelDir } from './files.js';

/** Folder of the generic model shipped for this channel count (made by `impartial pretrain`), or null. */
export function genericModelDir(channels: number): string | null {
  const dir = fileURLToPath(new URL(`../../models/generic-c${channels}/`, import.meta.url));
  return existsSync(`${dir}model.json`) ? dir : null;
}

/**
 * The shipped generic starting model for this channel count. Where none ships for it, the 6-channel
 * one (else the 2-channel one) adapted to it (adaptChannels: they were pretrained with their channels
 * in random order); null when nothing ships at all.
 */
export async function loadGenericModel(channels: number): Promise<ImpartialModel | null> {
  const dir = genericModelDir(channels);
  if (dir) return loadModelDir(dir);
  const source = ADAPTABLE.map(genericModelDir).find((d) => d !== null);
  if (!source) return null;
  const shipped = await loadModelDir(source);
  const adapted = adaptChannels(shipped, channels);
  disposeWeights(shipped.weights);
  return adapted;
}

/** Shipped models to adapt from, best first: the one that saw the most channels at once. */
const ADAPTABLE = [6, 2];
