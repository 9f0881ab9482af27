import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { labelTiff } from '@impartial/shared';
import { ImpartialError } from '../errors.js';
import { sendBytes, sendJson } from '../http/respond.js';

/** What an inference of one image gives a MONAI client. */
export interface InferResult {
  /** MONAI's image id, the answer's file name. */
  name: string;
  width: number;
  height: number;
  /** Instance labels, row-major. */
  labels: Int32Array;
  entropy: Float32Array;
  /** MONAI's result params. */
  params: Record<string, unknown>;
}

/** A 2-D array as [row][column] (H outer, W inner), as numpy's tolist() gives it. */
function rows(data: ArrayLike<number>, width: number, height: number, digits?: number): number[][] {
  const f = digits === undefined ? (v: number) => v : (v: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => f(data[y * width + x]!)));
}

/** The original ImPartial app's JSON answer: instance labels and entropy as nested lists, and the metrics. */
export function impartialJson(r: InferResult): Record<string, unknown> {
  return {
    output: rows(r.labels, r.width, r.height),
    entropy: rows(r.entropy, r.width, r.height, 6),
    metrics: r.params,
  };
}

/** multipart/form-data of named parts: text parts, and file parts with a file name. */
function multipart(parts: Array<{ name: string; type: string; body: Uint8Array | string; filename?: string }>) {
  const boundary = `impartial${randomUUID().replace(/-/g, '')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename !== undefined ? `; filename="${p.filename.replace(/["\\\r\n]/g, '_')}"` : '';
    const disposition = `Content-Disposition: form-data; name="${p.name}"${file}`;
    const head = `--${boundary}\r\n${disposition}\r\nContent-Type: ${p.type}\r\n\r\n`;
    chunks.push(Buffer.from(head), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

/**
 * Answers /infer/{model} as MONAI Label does for each `output`: none or `all`, a multipart body
 * with `params` (JSON) and the instance labels as a TIFF file part (what MONAI Label's Python
 * client saves); `json`, the params alone; `image`, the original ImPartial plugin's JSON answer.
 */
export function sendInferAnswer(res: ServerResponse, output: string | null, r: InferResult): void {
  if (output === 'image' || output === 'json') {
    sendJson(res, 200, output === 'image' ? impartialJson(r) : r.params);
    return;
  }
  if (output !== null && output !== 'all') {
    throw new ImpartialError('bad-request', `output must be image, json or all, not ${output.slice(0, 20)}`);
  }
  const { type, body } = multipart([
    { name: 'params', type: 'application/json', body: JSON.stringify(r.params) },
    { name: 'image', type: 'image/tiff', body: labelTiff(r.width, r.height, r.labels), filename: `${r.name}.tif` },
  ]);
  sendBytes(res, body, type);
}
