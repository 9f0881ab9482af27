import '../src/impartial-viewer.js';
import type { ImportRecord } from '@impartial/shared/protocol';
import type { ImpartialViewer } from '../src/impartial-viewer.js';

/*
 * The demo page the bridge serves at /t/TOKEN/viewer/: the bridge's images on the left, the
 * element on the right. The token travels in the path, so every asset and call carries it.
 */
const token = /\/t\/([^/]+)\//.exec(location.pathname)?.[1] ?? new URLSearchParams(location.search).get('token') ?? '';
const params = new URLSearchParams(location.search);
const viewer = document.getElementById('viewer') as ImpartialViewer;

const headers = token ? { Authorization: `Bearer ${decodeURIComponent(token)}` } : undefined;

/** The bridge's projects and images as links, imports still being written with their progress; the first image. */
async function listImages(): Promise<string> {
  const [projects, imports] = await Promise.all([
    fetch('/api/projects', { headers }).then((r) => r.json()) as Promise<Array<{ id: string; name: string }>>,
    fetch('/api/imports', { headers }).then((r) => r.json()) as Promise<ImportRecord[]>,
  ]);
  const list = document.getElementById('images')!;
  list.textContent = '';
  let first = '';
  for (const p of projects) {
    const detail = (await (await fetch(`/api/projects/${p.id}`, { headers })).json()) as {
      images: Array<{ id: string; name: string; width: number; height: number }>;
    };
    const h = document.createElement('h4');
    h.textContent = p.name;
    list.append(h);
    for (const img of detail.images) {
      first ||= img.id;
      const a = document.createElement('a');
      a.href = `?image=${img.id}`;
      a.textContent = `${img.name} (${img.width}x${img.height})`;
      if (img.id === params.get('image')) a.setAttribute('aria-current', 'true');
      list.append(a);
    }
    for (const i of imports.filter((i) => i.project === p.id && i.status !== 'done')) {
      const line = document.createElement('div');
      line.className = 'importing';
      line.textContent =
        i.status === 'running'
          ? `${i.name} (${i.width}x${i.height}x${i.channels}): importing ${Math.floor((100 * i.rowsDone) / i.rows)}%`
          : `${i.name}: import failed (${i.error})`;
      list.append(line);
    }
  }
  // While something is being imported, look again: its progress, then its link.
  if (imports.some((i) => i.status === 'running')) setTimeout(() => void listImages(), 2000);
  return first;
}

async function main(): Promise<void> {
  const first = await listImages();
  const list = document.getElementById('images')!;
  const image = params.get('image') ?? first;
  if (!image) {
    list.append('No images yet: import one with POST /api/projects/P/images or impartial serve --demo.');
    return;
  }
  viewer.name = params.get('name') ?? `web-${Math.random().toString(36).slice(2, 6)}`;
  viewer.token = decodeURIComponent(token);
  viewer.bridge = location.origin;
  viewer.imageId = image;
}

void main();
