import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { ImpartialError, LimitError } from '@impartial/shared';
import { Agent, fetch as undiciFetch } from 'undici';

/*
 * Fetches for URL imports, which must not become a way into the bridge's own network: only
 * public addresses are reached (checked on the address actually connected to, so a name that
 * resolves to 127.0.0.1 is refused too), redirects are followed by hand and checked again, each
 * request has a time limit and the whole import a byte cap. Every refusal reads the same, so it
 * does not tell an open port from a closed one.
 */

export interface UrlPolicy {
  /** Host names (or addresses) an import may reach even when they are not public (`--allow-import-host`). */
  allowHosts: readonly string[];
  /** Bytes one import may read in all. */
  maxBytes: number;
  /** Time limit of one request. */
  timeoutMs: number;
}

export const DEFAULT_URL_POLICY: UrlPolicy = { allowHosts: [], maxBytes: 16 * 1024 ** 3, timeoutMs: 60_000 };

const MAX_REDIRECTS = 5;

/** Loopback, private, link-local, unique-local, carrier-grade NAT, multicast and unspecified ranges. */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is reachable from anywhere (IPv4-mapped IPv6 addresses judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPublicAddress(mapped);
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const refused = (url: string) =>
  new ImpartialError(
    'forbidden',
    `${url}: refused; URL imports read only http(s) OME-Zarr on public hosts (start the bridge with ` +
      '--allow-import-host HOST to allow another)',
  );

/** A connection lookup that only hands out public addresses, unless the host is allowed. */
function guardedLookup(allowed: ReadonlySet<string>) {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as Array<{ address: string; family: number }>;
      const ok = allowed.has(hostname.toLowerCase()) || list.every((a) => isPublicAddress(a.address));
      if (!ok) return callback(Object.assign(new Error('address not public'), { code: 'EREFUSED_PRIVATE' }));
      const all = (options as { all?: boolean }).all;
      callback(null, all ? list : list[0]!.address, all ? undefined : list[0]!.family);
    });
  }) as never;
}

/** The request's headers as a plain object (zarrita sends Range for partial reads). */
function headersOf(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  request.headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** Wraps a body so reading it counts toward the import's byte cap. */
function counted(response: Response, budget: { left: number }, url: string): Response {
  if (!response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      budget.left -= value.byteLength;
      if (budget.left < 0) {
        await reader.cancel();
        return controller.error(new LimitError(`${url}: the import read more than its byte cap`));
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A fetch for zarrita's FetchStore that keeps to the policy; one per import (the byte cap is per import). */
export function guardedFetch(policy: UrlPolicy, signal?: AbortSignal): (request: Request) => Promise<Response> {
  const allowed = new Set(policy.allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(allowed) } });
  const budget = { left: policy.maxBytes };
  return async (request: Request) => {
    let url = request.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      if (!/^https?:$/.test(target.protocol)) throw refused(request.url);
      if (isIP(host) && !isPublicAddress(host) && !allowed.has(host)) throw refused(request.url);
      const timeout = AbortSignal.timeout(policy.timeoutMs);
      let response: Response;
      try {
        response = (await undiciFetch(url, {
          headers: headersOf(request),
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          dispatcher,
        })) as unknown as Response;
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause;
        if (cause?.code === 'EREFUSED_PRIVATE') throw refused(request.url);
        throw e;
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        url = new URL(location, url).toString();
        continue;
      }
      return counted(response, budget, request.url);
    }
    throw new ImpartialError('bad-request', `${request.url}: more than ${MAX_REDIRECTS} redirects`);
  };
}
