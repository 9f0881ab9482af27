/** The items `keep` says yes to, in their order; the checks run concurrently. */
export async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const verdicts = await Promise.all(items.map(keep));
  return items.filter((_, k) => verdicts[k]);
}
