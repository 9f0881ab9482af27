/** Omit over each member of a union (TypeScript's Omit would merge the union first). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
