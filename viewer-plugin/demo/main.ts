import '../src/impartial-viewer.js';
import type { ImpartialViewer } from '../src/impartial-viewer.js';

/*
 * The demo page the bridge serves at /t/TOKEN/viewer/: the bridge's images on the left, the
 * element on the right. The token travels in the path, so every asset and call carries it.
 */
const token = /\/t\/([^/]+)\//.exec(location.pathname)?.[1] ?? new URLSearchParams(location.search).get('token') ?? '';
const params = new URLSearchParams(location.search);
const viewer = document.getElementById('viewer') as ImpartialViewer;

async function main(): Promise<void> {
  const headers = token ? { Authorization: `Bearer ${decodeURIComponent(token)}` } : undefined;
  const projects = await (await fetch('/api/projects', { headers })).json() as Array<{ id: string; name: string }>;
  const list = document.getElementById('images')!;
  list.textContent = '';
  let first = '';
  for (const p of projects) {
    const detail = await (await fetch(`/api/projects/${p.id}`, { headers })).json() as { images: Array<{ id: string; name: string; width: number; height: number }> };
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
  }
  const image = params.get('image') ?? first;
  if (!image) { list.append('No images yet: import one with POST /api/projects/P/images or impartial serve --demo.'); return; }
  viewer.name = params.get('name') ?? `web-${Math.random().toString(36).slice(2, 6)}`;
  viewer.token = decodeURIComponent(token);
  viewer.bridge = location.origin;
  viewer.imageId = image;
}

void main();
