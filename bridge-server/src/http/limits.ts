import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { BusyError } from '../errors.js';

/*
 * How much one bridge takes at once, each limit answered in words (503 or 429 with Retry-After, a
 * `busy` error message, a close with a reason) rather than by a dropped socket.
 */

/**
 * Open TCP connections in all. A viewer tab holds up to 6 HTTP connections and one WebSocket, Fiji
 * and MONAI clients one or two: 256 serve dozens of clients, and with the files those connections
 * read stay well under the common 1024 open-file limit.
 */
const MAX_CONNECTIONS = 256;
/** WebSockets from one address: one per open viewer tab; 32 tabs is plenty, a runaway script is not. */
const MAX_WEBSOCKETS_PER_ADDRESS = 32;
/**
 * WebSocket messages a second, and the burst above that. A viewer sends a stroke per pointer-up and a
 * view message per frame while panning (60 a second at most); a script replaying strokes may burst.
 */
const WS_MESSAGES_PER_SECOND = 200;
const WS_MESSAGE_BURST = 400;
/** Pings a WebSocket this often; a peer that did not answer the last ping by the next is dropped. */
const WS_PING_INTERVAL_MS = 30_000;
/** A request's headers must arrive within this (slow-header attacks hold sockets open). */
const HEADERS_TIMEOUT_MS = 10_000;
/** A whole request, body included: a 2 GiB upload (the default --max-upload-mb) at 3.5 MB/s. */
const REQUEST_TIMEOUT_MS = 10 * 60_000;
/** An idle kept-alive connection closes after this: the viewer's tile bursts reuse it, idle ones free it. */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;
/** What Retry-After says when a limit refuses: long enough for connections to close, short for a person. */
const RETRY_AFTER_S = 5;

export interface ConnectionLimits {
  maxConnections: number;
  maxWebSocketsPerAddress: number;
  wsMessagesPerSecond: number;
  wsMessageBurst: number;
  wsPingIntervalMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  retryAfterS: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  maxConnections: MAX_CONNECTIONS,
  maxWebSocketsPerAddress: MAX_WEBSOCKETS_PER_ADDRESS,
  wsMessagesPerSecond: WS_MESSAGES_PER_SECOND,
  wsMessageBurst: WS_MESSAGE_BURST,
  wsPingIntervalMs: WS_PING_INTERVAL_MS,
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  retryAfterS: RETRY_AFTER_S,
};

/**
 * Node's server timeouts, set explicitly: Node 20's own defaults allow 60 s for a request's headers
 * (headersTimeout), 300 s for a whole request (requestTimeout) and keep an idle connection 5 s.
 */
export function applyServerTimeouts(server: Server, l: ConnectionLimits): void {
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
}

/**
 * Counts open connections and WebSockets per address. A connection past the cap is marked as it
 * opens; its request (or upgrade) is then answered 503 with Retry-After and the connection closed.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly over = new WeakSet<Socket>();
  private readonly sockets = new Map<string, number>();

  constructor(
    server: Server,
    private readonly limits: ConnectionLimits,
  ) {
    server.prependListener('connection', (socket: Socket) => {
      this.open++;
      if (this.open > limits.maxConnections) this.over.add(socket);
      socket.once('close', () => this.open--);
    });
  }

  /** Throws a 503 BusyError when this connection opened past the cap. */
  checkConnection(socket: Socket): void {
    if (!this.over.has(socket)) return;
    throw new BusyError(
      `the bridge has ${this.limits.maxConnections} connections open, its limit; try again shortly`,
      503,
      this.limits.retryAfterS,
    );
  }

  /** Counts a WebSocket from `address`, or throws a 429 BusyError past the cap; returns what to call on close. */
  admitWebSocket(address: string): () => void {
    const n = this.sockets.get(address) ?? 0;
    if (n >= this.limits.maxWebSocketsPerAddress) {
      throw new BusyError(
        `${address} has ${n} WebSockets open, the limit for one address; close one or try again later`,
        429,
        this.limits.retryAfterS,
      );
    }
    this.sockets.set(address, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.sockets.get(address) ?? 1) - 1;
      if (left > 0) this.sockets.set(address, left);
      else this.sockets.delete(address);
    };
  }
}

/** A token bucket: `rate` tokens a second, up to `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Whether the last take found the bucket full (the sender had paused long enough). */
  rested = true;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now = performance.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.rested = this.tokens >= this.burst;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
