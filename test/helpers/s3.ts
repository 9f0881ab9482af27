// An S3-speaking server for tests: s3rver in this process on a free port of 127.0.0.1, its objects
// in a temporary folder removed at stop. Clients sign with s3rver's fixed key pair, set here in the
// environment (which worker processes started afterwards inherit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  /** The endpoint, e.g. http://127.0.0.1:PORT. */
  endpoint: string;
  /** A `--store` URL for a bucket of this server and a prefix. */
  storeUrl(prefix: string, query?: string): string;
  stop(): Promise<void>;
}

export const S3_BUCKET = 'impartial-test';

export async function startS3(): Promise<S3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'impartial-s3-'));
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: S3_BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    storeUrl: (prefix, query = '') =>
      `s3://${S3_BUCKET}/${prefix}?endpoint=${encodeURIComponent(endpoint)}${query ? `&${query}` : ''}`,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
