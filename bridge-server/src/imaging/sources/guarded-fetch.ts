import { lookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { ImpartialError, LimitError } from '@impartial/shared';
import { Agent, fetch as undiciFetch } from 'undici';

/*
 * Fetches for URL imports, which must not become a way into the bridge's own network: only
 * public addresses are reached (checked on the address actually connected to, so a name that
 * resolves to 127.0.0.1 is refused too), redirects are followed by hand and checked again, each
 * request has a time limit and the whole import a byte cap. Every refusal reads the same, so it
 * does not tell an open port from a closed one. A server that does not answer in time, whose
 * connection fails or breaks, or that answers 5xx is `unreachable` (502), named by the import's URL.
 */

export interface UrlPolicy {
  /** Host names (or addresses) an import may reach even when they are not public (`--allow-import-host`). */
  allowHosts: readonly string[];
  /** Bytes one import may read in all. */
  maxBytes: number;
  /** Time limit of one request, its answer and body together. */
  timeoutMs: number;
}

export const DEFAULT_URL_POLICY: UrlPolicy = { allowHosts: [], maxBytes: 16 * 1024 ** 3, timeoutMs: 60_000 };

const MAX_REDIRECTS = 5;

/**
 * IPv4 ranges that are not reachable from anywhere: "this network", private, carrier-grade NAT,
 * loopback, link-local, IETF protocol assignments, documentation (TEST-NET-1..3), the deprecated 6to4
 * relay anycast, benchmarking, and multicast, reserved and broadcast (224.0.0.0/3 covers all three).
 */
const NOT_PUBLIC_V4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC_V4.addSubnet(net, prefix, 'ipv4');
}

/**
 * IPv6 is public only inside global unicast (2000::/3), which leaves out the unspecified address,
 * loopback, IPv4-compatible (::/96), discard-only (100::/64), local-use NAT64 (64:ff9b:1::/48),
 * unique-local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10) and multicast (ff00::/8)...
 */
const GLOBAL_UNICAST_V6 = new BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');
/**
 * ...less what global unicast sets aside: IETF protocol assignments (Teredo, benchmarking, ORCHID),
 * documentation (2001:db8::/32, 3fff::/20) and segment-routing SIDs (5f00::/16).
 */
const NOT_PUBLIC_V6 = new BlockList();
for (const [net, prefix] of [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
  ['5f00::', 16],
] as const) {
  NOT_PUBLIC_V6.addSubnet(net, prefix, 'ipv6');
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 counted as two). */
function ipv6Groups(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  return tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/**
 * The IPv4 address an IPv6 one reaches, where it is meant to reach one: IPv4-mapped (::ffff:0:0/96),
 * NAT64's well-known prefix (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 in bits 16 to 47). The
 * deprecated IPv4-compatible (::/96) and the translated (::ffff:0:0:0/96) forms are refused whole.
 */
function embeddedIPv4(g: readonly number[]): string | null {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return null;
}

/** Whether an address is reachable from anywhere (an IPv6 address that carries an IPv4 one judged by that). */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !NOT_PUBLIC_V4.check(bare, 'ipv4');
  if (family !== 6) return false;
  const carried = embeddedIPv4(ipv6Groups(bare));
  if (carried !== null) return isPublicAddress(carried);
  return GLOBAL_UNICAST_V6.check(bare, 'ipv6') && !NOT_PUBLIC_V6.check(bare, 'ipv6');
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

/** One request of an import, as its errors name it. */
interface Attempt {
  /** The import's URL as given, which every error names. */
  location: string;
  /** The file read, relative to the import's URL. */
  key: string;
  /** The request's time limit, fired when it ran out. */
  timeout: AbortSignal;
  /** Whether the answer had begun (its body was being read). */
  reading: boolean;
}

/**
 * A failed request or body read as the error a client sees: a refused address, or the server
 * `unreachable` (502) when the time limit ran out or the connection failed or broke. An abort of the
 * import itself (the client went away) keeps its own reason.
 */
function failure(e: unknown, f: Attempt, policy: UrlPolicy, signal?: AbortSignal): unknown {
  if (e instanceof ImpartialError || signal?.aborted) return e;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'EREFUSED_PRIVATE') return refused(f.location);
  if (f.timeout.aborted) {
    const s = policy.timeoutMs / 1000;
    const what = f.reading ? 'no complete answer' : 'no answer';
    return new ImpartialError('unreachable', `${f.location}: ${what} within ${s} s (reading ${f.key})`);
  }
  if (!(e instanceof TypeError) && !f.reading) return e;
  // An errno (ECONNREFUSED, ECONNRESET) says most; undici's own codes less than their message.
  const code = cause?.code && !cause.code.startsWith('UND_ERR') ? cause.code : undefined;
  const why = code ?? cause?.message ?? (e as Error).message;
  return new ImpartialError(
    'unreachable',
    f.reading
      ? `${f.location}: the connection broke while reading ${f.key} (${why})`
      : `${f.location}: cannot be reached (${why})`,
  );
}

/** Wraps a body so reading it counts toward the import's byte cap, and its failures read as `failure` says. */
function counted(response: Response, budget: { left: number }, location: string, fail: (e: unknown) => unknown) {
  if (!response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        return controller.error(fail(e));
      }
      if (chunk.done) return controller.close();
      budget.left -= chunk.value.byteLength;
      if (budget.left < 0) {
        await reader.cancel().catch(() => {});
        return controller.error(new LimitError(`${location}: the import read more than its byte cap`));
      }
      controller.enqueue(chunk.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A fetch for zarrita's FetchStore; `close` frees its connections, to be called when the import ends. */
export interface GuardedFetch {
  (request: Request): Promise<Response>;
  close(): Promise<void>;
}

/**
 * A fetch for zarrita's FetchStore that keeps to the policy, for the import of `location`: one per
 * import (the byte cap is per import), closed when the import ends. Only a 200 or 206 answer keeps its
 * body: zarrita reads no other, and an unread body would hold its connection. A 404 is a missing key
 * to zarrita, another 4xx an answer it refuses; a 5xx is the server failing (`unreachable`, 502).
 */
export function guardedFetch(location: string, policy: UrlPolicy, signal?: AbortSignal): GuardedFetch {
  const allowed = new Set(policy.allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(allowed) } });
  const budget = { left: policy.maxBytes };
  const base = location.replace(/[?#].*$/, '').replace(/\/*$/, '/');
  const keyOf = (url: string) => (url.startsWith(base) ? url.slice(base.length).replace(/[?#].*$/, '') : url);
  const fetch = async (request: Request) => {
    let url = request.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      if (!/^https?:$/.test(target.protocol)) throw refused(location);
      if (isIP(host) && !isPublicAddress(host) && !allowed.has(host)) throw refused(location);
      const timeout = AbortSignal.timeout(policy.timeoutMs);
      const f: Attempt = { location, key: keyOf(request.url), timeout, reading: false };
      let response: Response;
      try {
        response = (await undiciFetch(url, {
          method: request.method,
          headers: headersOf(request),
          redirect: 'manual',
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          dispatcher,
        })) as unknown as Response;
      } catch (e) {
        throw failure(e, f, policy, signal);
      }
      const to = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && to) {
        await response.body?.cancel().catch(() => {});
        url = new URL(to, url).toString();
        continue;
      }
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel().catch(() => {});
        const { status, statusText } = response;
        if (status >= 500) {
          throw new ImpartialError('unreachable', `${location}: answered ${status} ${statusText} to ${f.key}`);
        }
        return new Response(null, { status, statusText });
      }
      f.reading = true;
      return counted(response, budget, location, (e) => failure(e, f, policy, signal));
    }
    throw new ImpartialError(
      'bad-request',
      `${location}: more than ${MAX_REDIRECTS} redirects (reading ${keyOf(request.url)})`,
    );
  };
  return Object.assign(fetch, { close: () => dispatcher.destroy().catch(() => {}) });
}
