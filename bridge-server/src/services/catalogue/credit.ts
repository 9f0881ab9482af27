import type { ModelRecord } from '@impartial/shared';
import type { Store } from '../../store/store.js';
import type { UseKind } from '../../store/tables/catalogue.js';
import type { Actor } from '../actor.js';

/** Who a use is credited to: an account's name, or the name a client gave on a single-user bridge. */
export const userOf = (actor: Actor) => actor.account?.name ?? actor.name;

/**
 * Counts a use of a published model: an inference with, or a training started from, a version
 * that is a copy of a catalogue entry (its parent is the published version). A fine-tune of a
 * fine-tune is the second person's work and counts for nothing here; its lineage still credits all.
 */
export async function creditUse(store: Store, actor: Actor, model: ModelRecord | null, kind: UseKind): Promise<void> {
  if (!model?.catalogue) return;
  let entry: { id: string; model: string };
  try {
    entry = await store.catalogue.find(model.catalogue);
  } catch {
    return;
  }
  if (entry.model === model.parent) await store.catalogue.recordUse(entry.id, userOf(actor), kind);
}
