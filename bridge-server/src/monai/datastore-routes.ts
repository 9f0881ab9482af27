import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IdSchema } from '@impartial/shared';
import { filterAsync } from '../async-filter.js';
import { ImpartialError } from '../errors.js';
import { readMultipart } from '../http/multipart.js';
import { abortedByClient, sendBytes, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import { sniffImageFile } from '../http/uploads.js';
import { attachment } from '../rest/index.js';
import type { Actor, StoredImage } from '../services/index.js';
import type { MonaiApp } from './app.js';
import { parseParams } from './params.js';

const query = (c: RouteContext, name: string) => c.url.searchParams.get(name);

function tagOf(c: RouteContext): string {
  const tag = query(c, 'tag') || 'final';
  if (!IdSchema.safeParse(tag).success) {
    throw new ImpartialError('bad-request', `tag "${tag.slice(0, 40)}": 1-64 letters, digits, _ or -`);
  }
  return tag;
}

/** MONAI Label's /datastore routes over the bridge's images and labels (shapes: shared/notes/impartial.md §9). */
export function registerMonaiDatastore(router: Router, app: MonaiApp, tempDir: string, maxUploadBytes: number): void {
  const { services } = app;
  const info = async (actor: Actor, image: StoredImage) => ({
    ts: Math.floor(Date.parse(image.created) / 1000),
    name: `${await app.monaiId(image)}.tif`,
    width: image.width,
    height: image.height,
    channels: image.channels,
    channel_names: image.channelNames,
    ...(await services.images.info(actor, image.id)),
  });
  const labelsOf = async (actor: Actor, image: StoredImage) => {
    const out: Record<string, { ext: string; info: Record<string, unknown> }> = {};
    for (const l of await services.labels.list(actor, image.id)) out[l.tag] = { ext: l.ext, info: l.info };
    if (await app.labelled(actor, image)) {
      const strokes = (await services.strokes.drawings(actor, image.id)).length;
      out.final = { ext: '.zip', info: { ...(out.final?.info ?? {}), strokes } };
    } else delete out.final;
    return out;
  };
  const stats = async (actor: Actor) => {
    const images = await app.images(actor);
    const tags: Record<string, number> = {};
    for (const i of images) for (const t of Object.keys(await labelsOf(actor, i))) tags[t] = (tags[t] ?? 0) + 1;
    const completed = (await filterAsync(images, (i) => app.labelled(actor, i))).length;
    return { total: images.length, completed, label_tags: tags };
  };

  const datastore = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const output = query(c, 'output') ?? 'stats';
    if (output === 'stats') return sendJson(c.res, 200, await stats(actor));
    if (output === 'train') {
      const labelled = await filterAsync(await app.images(actor), (i) => app.labelled(actor, i));
      const pairs = await Promise.all(
        labelled.map(async (i) => ({
          image: `/datastore/image?image=${await app.monaiId(i)}`,
          label: `/datastore/label?label=${await app.monaiId(i)}&tag=final`,
        })),
      );
      return sendJson(c.res, 200, pairs);
    }
    if (output !== 'all')
      throw new ImpartialError('bad-request', `output must be stats, all or train, not ${output.slice(0, 20)}`);
    const objects: Record<string, unknown> = {};
    for (const i of await app.images(actor))
      objects[await app.monaiId(i)] = {
        image: { ext: '.tif', info: await info(actor, i) },
        labels: await labelsOf(actor, i),
      };
    const description = `project ${await app.project(actor)}`;
    sendJson(c.res, 200, {
      name: 'ImPartial bridge datastore',
      description,
      images_dir: '/datastore/image',
      labels_dir: '/datastore/label',
      objects,
    });
  };

  const putImage = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const project = await app.project(actor);
    const form = await readMultipart(c.req, tempDir, maxUploadBytes);
    try {
      const part = form.files.file;
      if (!part) throw new ImpartialError('bad-request', 'the image goes in a multipart field named file');
      // Clients declare image/png for TIFFs too (the ImPartial Fiji plugin does): the bytes decide.
      const type = await sniffImageFile(part.file);
      if (!type)
        throw new ImpartialError('unsupported', `${part.filename}: neither a TIFF nor a PNG (by its first bytes)`);
      const name = query(c, 'image') || path.basename(part.filename).replace(/\.(ome\.)?(tiff?|png)$/i, '');
      if (!name || name.length > 200) throw new ImpartialError('bad-request', 'image id: 1-200 characters');
      const params = form.fields.params ? parseParams(form.fields.params, 'params') : null;
      // MONAI replaces an image uploaded again under the same id.
      const upload = { file: part.file, type };
      const signal = abortedByClient(c.res);
      const image = await services.images.importUpload(actor, project, upload, name, { replace: true, signal });
      if (params) await services.images.setInfo(actor, image.id, params);
      (await app.tasks(actor)).logs.add(`datastore: image ${name} (${image.width}x${image.height}x${image.channels})`);
      sendJson(c.res, 200, { image: name });
    } finally {
      await form.cleanup();
    }
  };

  const putLabel = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const image = await app.image(actor, query(c, 'image'));
    const tag = tagOf(c);
    const form = await readMultipart(c.req, tempDir, maxUploadBytes);
    try {
      const part = form.files.label;
      if (!part) throw new ImpartialError('bad-request', 'the label goes in a multipart field named label');
      const bytes = new Uint8Array(await readFile(part.file));
      const ext = tag === 'final' ? '.zip' : path.extname(part.filename).toLowerCase() || '.bin';
      const given = form.fields.params ? parseParams(form.fields.params, 'params') : {};
      const labelInfo = { ...given, name: `${await app.monaiId(image)}${ext}` };
      if (tag === 'final') {
        const added = await services.labels.putFinal(actor, image.id, bytes, labelInfo);
        (await app.tasks(actor)).logs.add(
          `datastore: final label of ${await app.monaiId(image)}: ${added.rois} ROIs -> ${added.strokes} strokes`,
        );
      } else {
        await services.labels.put(actor, image.id, tag, ext, bytes, labelInfo);
      }
      sendJson(c.res, 200, { image: await app.monaiId(image), label: await app.monaiId(image), tag });
    } finally {
      await form.cleanup();
    }
  };

  const getLabel = async (c: RouteContext) => {
    const actor = app.actor(c.actor);
    const image = await app.image(actor, query(c, 'label') ?? query(c, 'image'));
    const tag = tagOf(c);
    if (c.req.method === 'HEAD') {
      const exists =
        tag === 'final'
          ? await app.labelled(actor, image)
          : (await services.labels.find(actor, image.id, tag)) !== null;
      c.res.writeHead(exists ? 200 : 404);
      c.res.end();
      return;
    }
    if (tag === 'final') {
      const zip = await services.labels.finalZip(actor, image.id);
      if (!zip) throw new ImpartialError('not-found', `image ${await app.monaiId(image)} has no final label`);
      return sendBytes(c.res, zip, 'application/zip', attachment(`${await app.monaiId(image)}.zip`));
    }
    const { file, bytes } = await services.labels.read(actor, image.id, tag);
    const type = file.ext === '.json' ? 'application/json' : 'application/octet-stream';
    sendBytes(c.res, bytes, type, attachment(`${await app.monaiId(image)}${file.ext}`));
  };

  const readInfo = async (c: RouteContext, field: string) => {
    const form = await readMultipart(c.req, tempDir, 1024 * 1024);
    await form.cleanup();
    return parseParams(form.fields[field] ?? '{}', field);
  };

  for (const prefix of ['/datastore', '/datastore/']) router.on('GET', prefix, datastore);
  router
    .on('PUT', '/datastore/image', putImage)
    .on('PUT', '/datastore/', putImage)
    .on('GET', '/datastore/image', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'image'));
      if (c.req.method === 'HEAD') {
        c.res.writeHead(200);
        c.res.end();
        return;
      }
      sendBytes(
        c.res,
        await services.images.tiff(actor, image.id, 0),
        'image/tiff',
        attachment(`${await app.monaiId(image)}.tif`),
      );
    })
    .on('DELETE', '/datastore/image', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'id') ?? query(c, 'image'));
      await services.images.delete(actor, image.id);
      (await app.tasks(actor)).logs.add(`datastore: deleted image ${await app.monaiId(image)}`);
      sendJson(c.res, 200, {});
    })
    .on('GET', '/datastore/image/info', async (c) => {
      const actor = app.actor(c.actor);
      sendJson(c.res, 200, await info(actor, await app.image(actor, query(c, 'image'))));
    })
    .on('PUT', '/datastore/image/info', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'image'));
      const given = await readInfo(c, 'info');
      await services.images.setInfo(actor, image.id, { ...(await services.images.info(actor, image.id)), ...given });
      sendJson(c.res, 200, await info(actor, image));
    })
    .on('PUT', '/datastore/label', putLabel)
    .on('GET', '/datastore/label', getLabel)
    .on('DELETE', '/datastore/label', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'id') ?? query(c, 'label') ?? query(c, 'image'));
      await services.labels.delete(actor, image.id, tagOf(c));
      sendJson(c.res, 200, {});
    })
    .on('GET', '/datastore/label/info', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'label') ?? query(c, 'image'));
      const tag = tagOf(c);
      const found = (await labelsOf(actor, image))[tag];
      if (!found)
        throw new ImpartialError('not-found', `image ${await app.monaiId(image)} has no label under tag ${tag}`);
      sendJson(c.res, 200, { ...found.info, ext: found.ext });
    })
    .on('PUT', '/datastore/label/info', async (c) => {
      const actor = app.actor(c.actor);
      const image = await app.image(actor, query(c, 'label') ?? query(c, 'image'));
      const tag = tagOf(c);
      if (!(await services.labels.find(actor, image.id, tag))) {
        throw new ImpartialError('not-found', `image ${await app.monaiId(image)} has no label file under tag ${tag}`);
      }
      sendJson(c.res, 200, await services.labels.setInfo(actor, image.id, tag, await readInfo(c, 'info')));
    });
}
