import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImpartialModel } from '../engine/model.js';
import { loadModelDir } from './files.js';

/** Folder of the generic model shipped for this channel count (made by `impartial pretrain`), or null. */
export function genericModelDir(channels: number): string | null {
  const dir = fileURLToPath(new URL(`../../models/generic-c${channels}/`, import.meta.url));
  return existsSync(`${dir}model.json`) ? dir : null;
}

/** The shipped generic starting model for this channel count, or null when none ships. */
export async function loadGenericModel(channels: number): Promise<ImpartialModel | null> {
  const dir = genericModelDir(channels);
  return dir ? loadModelDir(dir) : null;
}
