import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { badRequest, ImpartialError } from '../../errors.js';

/*
 * S3-compatible object storage (AWS S3, MinIO, Ceph RGW, s3rver) through @aws-sdk/client-s3.
 * Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws,
 * an instance role), never from the URL, so a store URL can be logged and passed on the command line.
 */

/** Where the objects live: `s3://BUCKET/PREFIX?endpoint=URL&region=R&presign=SECONDS`. */
export interface ObjectStoreTarget {
  bucket: string;
  /** Key prefix, without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
  /** A non-AWS endpoint (MinIO, Ceph, s3rver); addressed path-style. */
  endpoint?: string;
  region: string;
  /** Viewers are sent to presigned URLs valid this long instead of reading through the bridge. */
  presignSeconds?: number;
}

export function parseObjectStoreUrl(url: string): ObjectStoreTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badRequest(`--store: ${url} is not a URL (s3://BUCKET/PREFIX?endpoint=URL)`);
  }
  if (u.protocol !== 's3:') throw badRequest(`--store: ${u.protocol} is not supported (s3://BUCKET/...)`);
  if (!u.hostname) throw badRequest('--store: the URL names no bucket (s3://BUCKET/PREFIX)');
  if (u.username || u.password)
    throw badRequest('--store: credentials do not go in the URL; set AWS_ACCESS_KEY_ID and friends');
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint))
    throw badRequest(`--store: endpoint ${endpoint} is not an http(s) URL`);
  const presign = u.searchParams.get('presign');
  const presignSeconds = presign === null ? undefined : Number(presign);
  if (
    presignSeconds !== undefined &&
    !(Number.isInteger(presignSeconds) && presignSeconds > 0 && presignSeconds <= 604800)
  )
    throw badRequest('--store: presign must be a number of seconds from 1 to 604800');
  return {
    bucket: u.hostname,
    prefix: decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, ''),
    region: u.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(presignSeconds ? { presignSeconds } : {}),
  };
}

/** What a read of one object gives: its bytes as a stream, with the size and ETag for the HTTP answer. */
export interface ObjectBody {
  body: Readable;
  length: number;
  etag: string | undefined;
}

/** The operations the data folder's object home needs; keys are relative to the target's prefix. */
export class ObjectStore {
  private readonly client: S3Client;

  constructor(readonly target: ObjectStoreTarget) {
    this.client = new S3Client({
      region: target.region,
      ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
      // Other S3 implementations often reject the newer default checksums; send them only when an operation must.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 4,
    });
  }

  /** Where this store is, for messages (no credentials are ever part of it). */
  get where(): string {
    const t = this.target;
    return `s3://${t.bucket}/${t.prefix}${t.endpoint ? ` at ${t.endpoint}` : ''}`;
  }

  private key(key: string): string {
    return this.target.prefix ? `${this.target.prefix}/${key}` : key;
  }

  /** Fails with a message naming the bucket when it cannot be reached or does not exist. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.target.bucket }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const why = status === 404 ? 'no such bucket' : status === 403 ? 'access denied' : (e as Error).message;
      throw new ImpartialError('unreachable', `--store: cannot use ${this.where}: ${why || (e as Error).name}`);
    }
  }

  async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.target.bucket,
        Key: this.key(key),
        Body: body,
        ...(contentType ? { ContentType: contentType } : {}),
      }),
    );
  }

  /** The object as a stream, or null when there is none. */
  async open(key: string): Promise<ObjectBody | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(key) }));
      return { body: out.Body as Readable, length: out.ContentLength ?? 0, etag: out.ETag };
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return null;
      throw e;
    }
  }

  /** The whole object, or null when there is none. */
  async get(key: string): Promise<Uint8Array | null> {
    const o = await this.open(key);
    if (!o) return null;
    const chunks: Buffer[] = [];
    for await (const c of o.body) chunks.push(c as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  }

  /** Every key under a prefix (relative to the store's prefix). */
  async *list(prefix: string): AsyncGenerator<string> {
    const full = this.key(prefix);
    const strip = this.target.prefix ? this.target.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.target.bucket, Prefix: full, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key.slice(strip);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes the given keys, 1000 to a request (S3's limit). */
  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: this.key(k) }));
      // DeleteObjects is the one operation S3 requires a checksum for: the SDK adds it itself.
      await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.target.bucket, Delete: { Objects, Quiet: true } }),
      );
    }
  }

  /** A URL that reads the object without credentials until it expires. */
  presign(key: string, seconds: number): Promise<string> {
    const get = new GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(key) });
    return getSignedUrl(this.client, get, { expiresIn: seconds });
  }

  close(): void {
    this.client.destroy();
  }
}
