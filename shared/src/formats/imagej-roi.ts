import { zipSync } from 'fflate';
import { InputError } from '../errors.js';
import type { Polygon } from '../image/rasterize.js';
import { readZip } from './zip.js';

/** ImageJ ROI types (the byte at offset 6 of a .roi file). */
export const RoiType = {
  polygon: 0,
  rect: 1,
  oval: 2,
  line: 3,
  freeline: 4,
  polyline: 5,
  noRoi: 6,
  freehand: 7,
  traced: 8,
  angle: 9,
  point: 10,
} as const;
export type RoiTypeName = keyof typeof RoiType;

const TYPE_NAMES = Object.fromEntries(Object.entries(RoiType).map(([k, v]) => [v, k])) as Record<number, RoiTypeName>;
const AREA_TYPES = new Set<RoiTypeName>(['polygon', 'rect', 'oval', 'freehand', 'traced']);
const SUB_PIXEL_RESOLUTION = 128;
const HEADER_SIZE = 64,
  HEADER2_SIZE = 64;

export interface Roi {
  name: string;
  type: RoiTypeName;
  /** Vertices in image pixel-corner coordinates. */
  points: Array<[number, number]>;
  /** Area ROIs enclose a region; lines (freeline, polyline, line, angle) and points do not. */
  closed: boolean;
  /** A composite (shape) ROI contributes one polygon per closed sub-path. */
  parts?: Array<Array<[number, number]>>;
  /** 1-based hyperstack position (0 = all). */
  position?: { c: number; z: number; t: number };
}

/** An ImageJ ROI or ROI set this reader cannot use, with what is wrong. */
export class RoiFormatError extends InputError {
  override name = 'RoiFormatError';
}

function ovalPolygon(left: number, top: number, width: number, height: number): Array<[number, number]> {
  const n = Math.max(12, Math.ceil((Math.PI * (width + height)) / 2));
  const cx = left + width / 2,
    cy = top + height / 2;
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    return [cx + (width / 2) * Math.cos(a), cy + (height / 2) * Math.sin(a)] as [number, number];
  });
}

/** Closed sub-paths of a composite ROI (float path segments: 0 moveTo, 1 lineTo, 2 quadTo, 3 cubicTo, 4 close). */
function decodeShape(
  view: DataView,
  offset: number,
  count: number,
  warn: (m: string) => void,
): Array<Array<[number, number]>> {
  const parts: Array<Array<[number, number]>> = [];
  let current: Array<[number, number]> = [];
  let i = 0,
    curves = false;
  const f = () => view.getFloat32(offset + 4 * i++);
  while (i < count) {
    const op = f();
    if (op === 0) {
      if (current.length >= 3) parts.push(current);
      current = [[f(), f()]];
    } else if (op === 1) current.push([f(), f()]);
    else if (op === 2) {
      f();
      f();
      current.push([f(), f()]);
      curves = true;
    } else if (op === 3) {
      f();
      f();
      f();
      f();
      current.push([f(), f()]);
      curves = true;
    } else if (op === 4) {
      if (current.length >= 3) parts.push(current);
      current = [];
    } else throw new RoiFormatError(`composite ROI: unknown path segment ${op}`);
  }
  if (current.length >= 3) parts.push(current);
  if (curves) warn('composite ROI with curves: curves approximated by their end points');
  return parts;
}

/** Decodes one .roi file. */
export function decodeRoi(bytes: Uint8Array, fallbackName = 'roi', warn: (m: string) => void = () => {}): Roi | null {
  if (bytes.length < HEADER_SIZE || bytes[0] !== 0x49 || bytes[1] !== 0x6f || bytes[2] !== 0x75 || bytes[3] !== 0x74) {
    throw new RoiFormatError(`${fallbackName}: not an ImageJ ROI (no "Iout" header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getInt16(4);
  const typeCode = bytes[6]!;
  const type = TYPE_NAMES[typeCode];
  if (!type) throw new RoiFormatError(`${fallbackName}: unknown ROI type ${typeCode}`);
  const top = view.getInt16(8),
    left = view.getInt16(10),
    bottom = view.getInt16(12),
    right = view.getInt16(14);
  const n = view.getUint16(16);
  const shapeSize = view.getInt32(36);
  const options = view.getInt16(50);
  const hdr2 = version >= 218 ? view.getInt32(60) : 0;
  let name = fallbackName.replace(/\.roi$/i, '');
  let position: Roi['position'];
  if (hdr2 > 0 && hdr2 + HEADER2_SIZE <= bytes.length) {
    position = { c: view.getInt32(hdr2 + 4), z: view.getInt32(hdr2 + 8), t: view.getInt32(hdr2 + 12) };
    const nameOffset = view.getInt32(hdr2 + 16),
      nameLength = view.getInt32(hdr2 + 20);
    if (nameOffset > 0 && nameLength > 0 && nameOffset + 2 * nameLength <= bytes.length) {
      name = String.fromCharCode(...Array.from({ length: nameLength }, (_, i) => view.getUint16(nameOffset + 2 * i)));
    }
  }
  const base = { name, type, ...(position ? { position } : {}) };
  if (shapeSize > 0) {
    if (HEADER_SIZE + 4 * shapeSize > bytes.length) throw new RoiFormatError(`${name}: composite ROI is truncated`);
    const parts = decodeShape(view, HEADER_SIZE, shapeSize, warn);
    if (parts.length === 0) {
      warn(`${name}: composite ROI without closed parts skipped`);
      return null;
    }
    const largest = parts.reduce((a, b) => (b.length > a.length ? b : a));
    return { ...base, type: 'polygon', points: largest, closed: true, parts };
  }
  if (type === 'rect')
    return {
      ...base,
      points: [
        [left, top],
        [right, top],
        [right, bottom],
        [left, bottom],
      ],
      closed: true,
    };
  if (type === 'oval') return { ...base, points: ovalPolygon(left, top, right - left, bottom - top), closed: true };
  if (type === 'line') {
    return {
      ...base,
      points: [
        [view.getFloat32(18), view.getFloat32(22)],
        [view.getFloat32(26), view.getFloat32(30)],
      ],
      closed: false,
    };
  }
  if (type === 'noRoi') return null;
  if (HEADER_SIZE + 4 * n > bytes.length)
    throw new RoiFormatError(`${name}: ROI with ${n} points is truncated (${bytes.length} bytes)`);
  const points: Array<[number, number]> = [];
  const subPixel = version >= 222 && (options & SUB_PIXEL_RESOLUTION) !== 0 && HEADER_SIZE + 12 * n <= bytes.length;
  for (let i = 0; i < n; i++) {
    if (subPixel)
      points.push([view.getFloat32(HEADER_SIZE + 4 * n + 4 * i), view.getFloat32(HEADER_SIZE + 8 * n + 4 * i)]);
    else points.push([left + view.getInt16(HEADER_SIZE + 2 * i), top + view.getInt16(HEADER_SIZE + 2 * n + 2 * i)]);
  }
  return { ...base, points, closed: AREA_TYPES.has(type) };
}

/**
 * Encodes one ROI (integer coordinates; polygon-like types, rect and oval by their vertices, a line
 * by its end points).
 */
export function encodeRoi(roi: Roi): Uint8Array {
  if (roi.type === 'noRoi') throw new RoiFormatError(`${roi.name}: cannot encode a 'noRoi'`);
  if (roi.type === 'line' && roi.points.length !== 2)
    throw new RoiFormatError(`${roi.name}: a line ROI has exactly 2 points`);
  const type = roi.type === 'rect' || roi.type === 'oval' ? 'polygon' : roi.type;
  const pts = roi.points.map(([x, y]) => [Math.round(x), Math.round(y)] as [number, number]);
  const n = pts.length;
  if (n > 65535) throw new RoiFormatError(`${roi.name}: ${n} points; ImageJ ROIs hold at most 65535`);
  const xs = pts.map((p) => p[0]),
    ys = pts.map((p) => p[1]);
  const left = Math.min(...xs),
    top = Math.min(...ys),
    right = Math.max(...xs),
    bottom = Math.max(...ys);
  if (right > 32767 || bottom > 32767 || left < -32768 || top < -32768)
    throw new RoiFormatError(`${roi.name}: coordinates beyond ImageJ's 16-bit range`);
  const hdr2 = HEADER_SIZE + 4 * n;
  const nameOffset = hdr2 + HEADER2_SIZE;
  const bytes = new Uint8Array(nameOffset + 2 * roi.name.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0x49, 0x6f, 0x75, 0x74]);
  view.setInt16(4, 228);
  bytes[6] = RoiType[type];
  view.setInt16(8, top);
  view.setInt16(10, left);
  view.setInt16(12, bottom);
  view.setInt16(14, right);
  view.setUint16(16, n);
  view.setInt32(60, hdr2);
  pts.forEach(([x, y], i) => {
    view.setInt16(HEADER_SIZE + 2 * i, x - left);
    view.setInt16(HEADER_SIZE + 2 * n + 2 * i, y - top);
  });
  if (type === 'line')
    roi.points.flat().forEach((v, i) => {
      view.setFloat32(18 + 4 * i, v);
    });
  if (roi.position) {
    view.setInt32(hdr2 + 4, roi.position.c);
    view.setInt32(hdr2 + 8, roi.position.z);
    view.setInt32(hdr2 + 12, roi.position.t);
  }
  view.setInt32(hdr2 + 16, nameOffset);
  view.setInt32(hdr2 + 20, roi.name.length);
  for (let i = 0; i < roi.name.length; i++) view.setUint16(nameOffset + 2 * i, roi.name.charCodeAt(i));
  return bytes;
}

/*
 * Caps of an ROI set, far above what ImageJ writes (a .roi file is a 64-byte header, 4 bytes a
 * point and a name: a few KiB; a whole slide's cells are some thousands of ROIs), so that a small
 * zip that inflates to gigabytes is refused before it does.
 */
/** ROIs in one set. */
const MAX_ROIS = 10_000;
/** Bytes of one .roi file (ImageJ's largest polygon, 65535 points with sub-pixel coordinates, is ~770 KiB). */
const MAX_ROI_BYTES = 1024 * 1024;
/** Bytes of all .roi files of a set together. */
const MAX_ROI_SET_BYTES = 64 * 1024 * 1024;

/** Reads an ImageJ ROI set (.zip of .roi files) in file order; other entries are skipped unread. */
export function readRoiZip(zip: Uint8Array, warn: (m: string) => void = () => {}): Roi[] {
  let files: Map<string, Uint8Array>;
  try {
    files = readZip(zip, {
      accept: (name) => name.toLowerCase().endsWith('.roi'),
      maxEntries: MAX_ROIS,
      maxEntryBytes: MAX_ROI_BYTES,
      maxTotalBytes: MAX_ROI_SET_BYTES,
      what: 'the ROI set',
    });
  } catch (e) {
    if (e instanceof InputError) throw new RoiFormatError(e.message);
    throw e; // a LimitError stays one
  }
  const rois: Roi[] = [];
  for (const [entry, bytes] of files) {
    const roi = decodeRoi(bytes, entry.split('/').pop()!, warn);
    if (roi) rois.push(roi);
  }
  return rois;
}

/** Writes an ImageJ ROI set; entry names are made unique as ImageJ's ROI Manager requires. */
export function writeRoiZip(rois: readonly Roi[]): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const roi of rois) {
    const base = roi.name || 'roi';
    let name = base,
      k = 1;
    while (files[`${name}.roi`]) name = `${base}-${++k}`;
    files[`${name}.roi`] = encodeRoi({ ...roi, name });
  }
  return zipSync(files, { level: 6 });
}

/** Cell outlines (closed ROIs; a composite contributes all its closed parts). */
export function roisToPolygons(rois: readonly Roi[]): Polygon[] {
  return rois.filter((r) => r.closed && r.points.length >= 3).flatMap((r) => r.parts ?? [r.points]);
}

/** One traced ROI per outline, named ImageJ's way (yyyy-xxxx of the centre). */
export function polygonsToRois(outlines: ReadonlyMap<number, Polygon>): Roi[] {
  return [...outlines].map(([label, polygon]) => {
    const xs = polygon.map((p) => p[0]),
      ys = polygon.map((p) => p[1]);
    const cx = Math.round((Math.min(...xs) + Math.max(...xs)) / 2),
      cy = Math.round((Math.min(...ys) + Math.max(...ys)) / 2);
    const name = `${String(label).padStart(4, '0')}-${String(cy).padStart(4, '0')}-${String(cx).padStart(4, '0')}`;
    return {
      name,
      type: 'traced' as const,
      points: polygon.map((p) => [p[0], p[1]] as [number, number]),
      closed: true,
    };
  });
}
