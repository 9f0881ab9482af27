import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/*
 * Headers every answer carries, and the Content-Security-Policy of the bridge's HTML pages (the
 * landing page and the viewer pages).
 */

/** Every HTTP answer: no Referer leaves a page (its URL may hold the token), no type guessing. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * Everything that is not one of our pages (JSON, OME-Zarr chunks, TIFFs, model files): nothing may
 * run or load in it should a browser open it directly (an SVG or HTML file among a model's files),
 * and no page may frame it. fetch() and <img> ignore a response's CSP, so readers are unaffected.
 */
export const DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox";

export function setCommonHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
  res.setHeader('Content-Security-Policy', DATA_POLICY);
}

/** The same headers as lines of a raw HTTP answer (refused upgrades and connections). */
export const COMMON_HEADER_LINES = Object.entries(COMMON_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/** The sha256 sources of a page's inline scripts, which the policy allows by their exact text. */
function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (/\bsrc\s*=/i.test(m[1]!) || m[2]!.length === 0) continue;
    hashes.push(`'sha256-${createHash('sha256').update(m[2]!, 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/**
 * The policy of an HTML page of the bridge. Scripts: the page's own files and its inline scripts by
 * hash (no injected script runs), WebAssembly for the zarr codecs. Styles: 'unsafe-inline', because
 * the pages keep their CSS in <style> and the viewer's Lit templates bind style attributes (colour
 * swatches). Connections: any http(s) or ws(s) URL, because the viewer reads OME-Zarr from whatever
 * data portal its `src` names and opens its WebSocket to the bridge. Images and workers may be data:
 * or blob: URLs (deck.gl, the loaders' workers). Frames: only the bridge and the --allow-origin pages.
 */
export function pagePolicy(html: string, frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    ["script-src 'self' 'wasm-unsafe-eval'", ...inlineScriptHashes(html)].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self' http: https: ws: wss:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    ["frame-ancestors 'self'", ...frameAncestors].join(' '),
  ].join('; ');
}
