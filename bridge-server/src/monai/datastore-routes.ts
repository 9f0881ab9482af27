import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { IdSchema } from '@impartial/shared';
import { readMultipart } from '../http/multipart.js';
import { sendBytes, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { sniffImageFile } from '../http/uploads.js';
import { BridgeError } from '../store/errors.js';
import { imageTiff } from '../store/exports.js';
import { importImage } from '../store/import.js';
import { openTiffSource, pngSource } from '../store/sources.js';
import type { StoredImage } from '../store/store.js';
import type { MonaiApp } from './app.js';
import { finalLabelZip, putFinalLabel, saveLabelFile } from './roi-labels.js';

/** MONAI Label's /datastore routes over the bridge's store (shapes: ../shared/notes/impartial.md section 9). */
export function registerMonaiDatastore(router: Router, app: MonaiApp, maxUploadBytes: number): void {
  const { store } = app.ctx;
  const q = (c: RouteContext, name: string) => c.url.searchParams.get(name);
  const tagOf = (c: RouteContext) => {
    const tag = q(c, 'tag') ?? 'final';
    if (!IdSchema.safeParse(tag).success)
      throw new BridgeError('bad-request', `tag "${tag.slice(0, 40)}": 1-64 letters, digits, _ or -`);
    return tag;
  };
  const imageInfo = (image: StoredImage) => ({
    ts: Math.floor(Date.parse(image.created) / 1000),
    name: `${app.monaiId(image)}.tif`,
    width: image.width,
    height: image.height,
    channels: image.channels,
    channel_names: image.channelNames,
    ...store.imageInfo(image.id),
  });
  const labelsOf = (image: StoredImage) => {
    const out: Record<string, { ext: string; info: Record<string, unknown> }> = {};
    for (const l of store.labels(image.id)) out[l.tag] = { ext: l.ext, info: l.info };
    if (app.labelled(image))
      out.final = {
        ext: '.zip',
        info: { ...(out.final?.info ?? {}), strokes: app.ctx.strokes.drawings(image.id).length },
      };
    else delete out.final;
    return out;
  };
  const stats = () => {
    const images = app.images();
    const tags: Record<string, number> = {};
    for (const i of images) for (const t of Object.keys(labelsOf(i))) tags[t] = (tags[t] ?? 0) + 1;
    return { total: images.length, completed: images.filter((i) => app.labelled(i)).length, label_tags: tags };
  };

  const datastore = (c: RouteContext) => {
    const output = q(c, 'output') ?? 'stats';
    if (output === 'stats') return sendJson(c.res, 200, stats());
    if (output === 'train') {
      return sendJson(
        c.res,
        200,
        app
          .images()
          .filter((i) => app.labelled(i))
          .map((i) => ({
            image: `/datastore/image?image=${app.monaiId(i)}`,
            label: `/datastore/label?label=${app.monaiId(i)}&tag=final`,
          })),
      );
    }
    if (output !== 'all')
      throw new BridgeError('bad-request', `output must be stats, all or train, not ${output.slice(0, 20)}`);
    const objects: Record<string, unknown> = {};
    for (const i of app.images())
      objects[app.monaiId(i)] = { image: { ext: '.tif', info: imageInfo(i) }, labels: labelsOf(i) };
    sendJson(c.res, 200, {
      name: 'ImPartial bridge datastore',
      description: `project ${app.projectId}`,
      images_dir: '/datastore/image',
      labels_dir: '/datastore/label',
      objects,
    });
  };

  const putImage = async (c: RouteContext) => {
    const form = await readMultipart(c.req, store.layout.temp, maxUploadBytes);
    try {
      const part = form.files.file;
      if (!part) throw new BridgeError('bad-request', 'the image goes in a multipart field named file');
      // Clients declare image/png for TIFFs too (the ImPartial Fiji plugin does): the bytes decide.
      const kind = await sniffImageFile(part.file);
      if (!kind)
        throw new BridgeError('unsupported', `${part.filename}: neither a TIFF nor a PNG (by its first bytes)`);
      const name = q(c, 'image') ?? path.basename(part.filename).replace(/\.(ome\.)?(tiff?|png)$/i, '');
      if (!name || name.length > 200) throw new BridgeError('bad-request', 'image id: 1-200 characters');
      const source =
        kind === 'tiff'
          ? await openTiffSource(part.file)
          : pngSource(new Uint8Array(await readFile(part.file)), part.filename);
      try {
        // MONAI replaces an image uploaded again under the same id.
        const old = store.imageByName(app.project(), name);
        const image = await importImage(store, source, { project: app.project(), name });
        if (old) await store.deleteImage(old.id);
        if (form.fields.params) store.setImageInfo(image.id, parseParams(form.fields.params, 'params'));
        app.logs.add(`datastore: image ${name} (${image.width}x${image.height}x${image.channels})`);
        sendJson(c.res, 200, { image: name });
      } finally {
        await source.close();
      }
    } finally {
      await form.cleanup();
    }
  };

  const putLabel = async (c: RouteContext) => {
    const image = app.image(q(c, 'image'));
    const tag = tagOf(c);
    const form = await readMultipart(c.req, store.layout.temp, maxUploadBytes);
    try {
      const part = form.files.label;
      if (!part) throw new BridgeError('bad-request', 'the label goes in a multipart field named label');
      const bytes = new Uint8Array(await readFile(part.file));
      const ext = path.extname(part.filename).toLowerCase() || '.bin';
      const info = form.fields.params ? parseParams(form.fields.params, 'params') : {};
      if (tag === 'final') {
        const added = putFinalLabel(app, image, bytes);
        await saveLabelFile(app, image, tag, '.zip', bytes, { ...info, ...added });
        app.logs.add(`datastore: final label of ${app.monaiId(image)}: ${added.rois} ROIs -> ${added.strokes} strokes`);
      } else {
        await saveLabelFile(app, image, tag, ext, bytes, info);
      }
      sendJson(c.res, 200, { image: app.monaiId(image), label: app.monaiId(image), tag });
    } finally {
      await form.cleanup();
    }
  };

  const getLabel = async (c: RouteContext) => {
    const image = app.image(q(c, 'label') ?? q(c, 'image'));
    const tag = tagOf(c);
    if (tag === 'final') {
      const zip = await finalLabelZip(app, image);
      if (!zip) throw new BridgeError('not-found', `image ${app.monaiId(image)} has no final label`);
      return sendBytes(c.res, zip, 'application/zip', {
        'Content-Disposition': `attachment; filename="${app.monaiId(image)}.zip"`,
      });
    }
    const label = store.labels(image.id).find((l) => l.tag === tag);
    if (!label) throw new BridgeError('not-found', `image ${app.monaiId(image)} has no label under tag ${tag}`);
    const bytes = await readFile(store.layout.label(image.id, tag, label.ext));
    sendBytes(c.res, bytes, label.ext === '.json' ? 'application/json' : 'application/octet-stream', {
      'Content-Disposition': `attachment; filename="${app.monaiId(image)}${label.ext}"`,
    });
  };

  for (const prefix of ['/datastore', '/datastore/']) router.on('GET', prefix, datastore);
  router
    .on('PUT', '/datastore/image', putImage)
    .on('PUT', '/datastore/', putImage)
    .on('GET', '/datastore/image', async (c) => {
      const image = app.image(q(c, 'image'));
      if (c.req.method === 'HEAD') {
        c.res.writeHead(200);
        c.res.end();
        return;
      }
      sendBytes(c.res, await imageTiff(image, 0), 'image/tiff', {
        'Content-Disposition': `attachment; filename="${app.monaiId(image)}.tif"`,
      });
    })
    .on('DELETE', '/datastore/image', async (c) => {
      const image = app.image(q(c, 'id') ?? q(c, 'image'));
      await store.deleteImage(image.id);
      app.logs.add(`datastore: deleted image ${app.monaiId(image)}`);
      sendJson(c.res, 200, {});
    })
    .on('GET', '/datastore/image/info', (c) => sendJson(c.res, 200, imageInfo(app.image(q(c, 'image')))))
    .on('PUT', '/datastore/image/info', async (c) => {
      const image = app.image(q(c, 'image'));
      const form = await readMultipart(c.req, store.layout.temp, 1024 * 1024);
      await form.cleanup();
      store.setImageInfo(image.id, {
        ...store.imageInfo(image.id),
        ...parseParams(form.fields.info ?? '{}', 'info'),
      });
      sendJson(c.res, 200, imageInfo(image));
    })
    .on('PUT', '/datastore/label', putLabel)
    .on('GET', '/datastore/label', async (c) => {
      if (c.req.method === 'HEAD') {
        const image = app.image(q(c, 'image') ?? q(c, 'label'));
        const tag = tagOf(c);
        const exists = tag === 'final' ? app.labelled(image) : store.labels(image.id).some((l) => l.tag === tag);
        c.res.writeHead(exists ? 200 : 404);
        c.res.end();
        return;
      }
      await getLabel(c);
    })
    .on('DELETE', '/datastore/label', async (c) => {
      const image = app.image(q(c, 'id') ?? q(c, 'label') ?? q(c, 'image'));
      const tag = tagOf(c);
      if (tag === 'final') {
        // The final label is the stroke log: deleting it switches off every stroke in effect.
        const active = app.ctx.strokes.drawings(image.id).map((d) => d.seq);
        for (const e of app.ctx.strokes.appendMany(image.id, 'monai', active, [])) app.ctx.hub.entry(image.id, e);
      }
      const label = store.labels(image.id).find((l) => l.tag === tag);
      if (label) await rm(store.layout.label(image.id, tag, label.ext), { force: true });
      store.deleteLabel(image.id, tag);
      sendJson(c.res, 200, {});
    })
    .on('GET', '/datastore/label/info', (c) => {
      const image = app.image(q(c, 'label') ?? q(c, 'image'));
      const tag = tagOf(c);
      const info = labelsOf(image)[tag];
      if (!info) throw new BridgeError('not-found', `image ${app.monaiId(image)} has no label under tag ${tag}`);
      sendJson(c.res, 200, { ...info.info, ext: info.ext });
    })
    .on('PUT', '/datastore/label/info', async (c) => {
      const image = app.image(q(c, 'label') ?? q(c, 'image'));
      const tag = tagOf(c);
      const label = store.labels(image.id).find((l) => l.tag === tag);
      if (!label) throw new BridgeError('not-found', `image ${app.monaiId(image)} has no label file under tag ${tag}`);
      const form = await readMultipart(c.req, store.layout.temp, 1024 * 1024);
      await form.cleanup();
      store.putLabel(image.id, tag, label.ext, { ...label.info, ...parseParams(form.fields.info ?? '{}', 'info') });
      sendJson(c.res, 200, { ...store.labels(image.id).find((l) => l.tag === tag)!.info });
    });
}

/** A JSON object from a form field (MONAI sends params and info as JSON strings). */
export function parseParams(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BridgeError('bad-request', `${what} must be a JSON object (got ${text.slice(0, 40)})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new BridgeError('bad-request', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}
