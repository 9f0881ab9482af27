/* Page lines too long for one source line, built from pieces that join to the exact line. */
const STYLE =
  '<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}' +
  'code{background:#f3f3f3;padding:0 .3em}td,th{padding:.2em .8em;text-align:left}</style></head>';
const GET_JSON =
  'const get = (p) => fetch(p, { headers }).then((r) => r.ok ? r.json() : ' +
  'r.json().then((e) => Promise.reject(new Error(e.error.message))));';
const PROJECT_HEADING =
  `    parts.push('<h2>' + esc(p.name) + ' <small>' + esc(p.id) + '</small></h2>` +
  `<table><tr><th>image</th><th>size</th><th>channels</th><th>OME-Zarr</th></tr>' +`;
const IMAGE_ROWS =
  `      d.images.map((i) => '<tr><td><a href="' + (token ? '/t/' + encodeURIComponent(token) : '') + ` +
  `'/viewer/?image=' + i.id + '">' + esc(i.name) + '</a></td><td>' + i.width + ' x ' + i.height + ` +
  `'</td><td>' + esc(i.channelNames.join(', ')) + '</td><td><code>' + esc(i.url) + '</code></td></tr>').join('') +`;

/** The bridge's own page: what is stored, with links that open each image in the viewer. */
export function landingPage(version: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ImPartial bridge</title>
${STYLE}
<body><h1>ImPartial bridge <small>${version}</small></h1>
<p>Projects and images stored by this bridge. Images are OME-Zarr pyramids under <code>/zarr/images/ID/</code>;
the REST API is under <code>/api/</code>, WebSocket sync at <code>/ws</code>, Fiji routes under <code>/fiji/</code>.</p>
<div id="out">loading...</div>
<script type="module">
const token = new URLSearchParams(location.search).get('token');
const headers = token ? { Authorization: 'Bearer ' + token } : {};
${GET_JSON}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
try {
  const projects = await get('/api/projects');
  const parts = [];
  for (const p of projects) {
    const d = await get('/api/projects/' + p.id);
${PROJECT_HEADING}
${IMAGE_ROWS}
      '</table><p>' + d.models.length + ' model version(s); current: ' + esc(p.currentModel ?? 'none') + '</p>');
  }
  document.getElementById('out').innerHTML = parts.join('') || 'No projects yet.';
} catch (e) { document.getElementById('out').textContent = 'Cannot read the bridge: ' + e.message; }
</script></body></html>
`;
}
