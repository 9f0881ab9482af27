import '../src/impartial-viewer.js';
import type { ImportRecord } from '@impartial/shared/protocol';
import type { ImpartialViewer } from '../src/impartial-viewer.js';
import { enableDropImport } from './drop-import.js';
import { linkToHost } from './frame-link.js';

/*
 * The demo page the bridge serves at /t/TOKEN/viewer/: the bridge's images on the left, the
 * element on the right. The token comes in the address (the /t/TOKEN/ path or ?token=); the page
 * keeps it for this tab (sessionStorage) and takes it out of the address bar, so that it does not
 * stay in the history, in bookmarks or on a screen. A reload finds the page at /viewer/ (the bridge
 * serves the viewer's files without the token) and the token in the tab's storage.
 */
const TOKEN_KEY = 'impartial-token';

/** The token from the address (then removed from it), or the one this tab kept; '' when none. */
function takeToken(): string {
  const url = new URL(location.href);
  const inPath = /^\/t\/([^/]+)(\/.*)$/.exec(url.pathname);
  const given = inPath?.[1] ?? url.searchParams.get('token');
  if (given === null || given === undefined) return sessionStorage.getItem(TOKEN_KEY) ?? '';
  let token = given;
  if (inPath) {
    url.pathname = inPath[2]!;
    try {
      token = decodeURIComponent(given);
    } catch {
      // A token with a stray % is used as given (the bridge does the same).
    }
  }
  url.searchParams.delete('token');
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(history.state, '', url);
  return token;
}

const token = takeToken();
const params = new URLSearchParams(location.search);
const viewer = document.getElementById('viewer') as ImpartialViewer;

const headers = token ? { Authorization: `Bearer ${token}` } : undefined;

/** A bridge answer as JSON, or an error with the bridge's message. */
async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers });
  if (r.status === 401)
    throw new Error('this bridge needs its token: open the viewer address it printed (…/t/TOKEN/viewer/)');
  const body = await r.json();
  if (!r.ok) throw new Error((body as { error?: { message?: string } }).error?.message ?? `${path}: ${r.status}`);
  return body as T;
}

/** The first project listed (where a dropped file goes when no image is shown). */
let firstProject: string | null = null;

/** The bridge's projects and images as links, imports still being written with their progress; the first image. */
async function listImages(): Promise<string> {
  const [projects, imports] = await Promise.all([
    getJson<Array<{ id: string; name: string }>>('/api/projects'),
    getJson<ImportRecord[]>('/api/imports'),
  ]);
  const list = document.getElementById('images')!;
  list.textContent = '';
  let first = '';
  firstProject = projects[0]?.id ?? null;
  for (const p of projects) {
    const detail = await getJson<{ images: Array<{ id: string; name: string; width: number; height: number }> }>(
      `/api/projects/${p.id}`,
    );
    const h = document.createElement('h4');
    h.textContent = p.name;
    list.append(h);
    for (const img of detail.images) {
      first ||= img.id;
      const a = document.createElement('a');
      a.href = `?image=${img.id}`;
      a.textContent = `${img.name} (${img.width}x${img.height})`;
      if (img.id === new URLSearchParams(location.search).get('image')) a.setAttribute('aria-current', 'true');
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

/** Shows an image in the element and marks its link, without reloading the page. */
function show(image: string): void {
  const url = new URL(location.href);
  url.searchParams.set('image', image);
  history.replaceState(history.state, '', url);
  for (const a of document.querySelectorAll('#images a'))
    a.setAttribute('aria-current', String(a.getAttribute('href') === `?image=${image}`));
  viewer.imageId = image;
}

// In a host's frame (a Vitessce plugin view): the host sets the view and channels, and hears of moves here.
linkToHost(viewer);

enableDropImport(document.body, token, {
  project: () => viewer.client?.project ?? firstProject,
  progress: (text) => {
    document.getElementById('dropped')!.textContent = text;
  },
  // The bridge lists the import with its rows done while it writes the pyramid.
  uploaded: () => void listImages().catch(() => {}),
  imported: (image) => {
    void listImages()
      .catch(() => {})
      .then(() => show(image.id));
  },
});

async function main(): Promise<void> {
  const list = document.getElementById('images')!;
  let first: string;
  try {
    first = await listImages();
  } catch (e) {
    list.textContent = `Cannot read the bridge: ${(e as Error).message}`;
    return;
  }
  const image = params.get('image') ?? first;
  if (!image) {
    list.append('No images yet: import one with POST /api/projects/P/images or impartial serve --demo.');
    return;
  }
  viewer.name = params.get('name') ?? `web-${Math.random().toString(36).slice(2, 6)}`;
  viewer.token = token;
  viewer.bridge = location.origin;
  viewer.imageId = image;
}

void main();
