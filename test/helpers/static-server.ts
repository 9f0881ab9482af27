import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Types a page needs (module scripts must be served as JavaScript); other files go untyped. */
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** A plain static file server on loopback (another origin, as a data portal would be), with redirects. */
export async function serveFolder(
  dir: string,
  redirect: (pathname: string) => string | null = () => null,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const to = redirect(pathname);
    if (to) {
      res.writeHead(302, { Location: to });
      res.end();
      return;
    }
    readFile(path.join(dir, pathname)).then(
      (b) => {
        const type = CONTENT_TYPES[path.extname(pathname)];
        res.writeHead(200, { 'Access-Control-Allow-Origin': '*', ...(type ? { 'Content-Type': type } : {}) });
        res.end(b);
      },
      () => {
        res.writeHead(404, { 'Access-Control-Allow-Origin': '*' });
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
