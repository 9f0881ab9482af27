/**
 * Small rasters written as text, one row per line: '.' or '0' = 0, '1'-'9' = 1-9, 'a'-'z' = 10-35.
 * Leading/trailing blank lines and indentation are ignored.
 */
export interface Grid {
  width: number;
  height: number;
  data: Int32Array;
}

export function grid(text: string): Grid {
  const rows = text
    .split('\n')
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  const height = rows.length;
  const width = rows[0]?.length ?? 0;
  const data = new Int32Array(width * height);
  rows.forEach((row, y) => {
    if (row.length !== width) throw new Error(`grid row ${y} has ${row.length} cells, expected ${width}`);
    for (let x = 0; x < width; x++) {
      const ch = row[x]!;
      data[y * width + x] = ch === '.' ? 0 : Number.parseInt(ch, 36);
    }
  });
  return { width, height, data };
}

/** A binary mask (non-zero -> 1) of a text grid. */
export function maskGrid(text: string): { width: number; height: number; data: Uint8Array } {
  const g = grid(text);
  return { width: g.width, height: g.height, data: Uint8Array.from(g.data, (v) => (v ? 1 : 0)) };
}

/** The text form of a raster ('.' for 0), for readable assertion messages. */
export function show(data: ArrayLike<number>, width: number): string {
  const rows: string[] = [];
  for (let y = 0; y * width < data.length; y++) {
    let row = '';
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x]!;
      row += v === 0 ? '.' : v.toString(36);
    }
    rows.push(row);
  }
  return rows.join('\n');
}

/** Same grid, written back as text (so expected grids can be compared with show()). */
export function normalizeGrid(text: string): string {
  const g = grid(text);
  return show(g.data, g.width);
}

/** Pixel indices where `data` is non-zero (or equals `value`). */
export function indicesOf(data: ArrayLike<number>, value?: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) if (value === undefined ? data[i] !== 0 : data[i] === value) out.push(i);
  return out;
}

/** A filled axis-aligned rectangle [x0, x1) x [y0, y1) of value `v` drawn into `data`. */
export function fillRect(
  data: Int32Array | Uint8Array,
  width: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  v = 1,
): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * width + x] = v;
}
