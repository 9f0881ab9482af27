/** Timestamps of records: ISO 8601 in UTC. */
export const now = () => new Date().toISOString();
