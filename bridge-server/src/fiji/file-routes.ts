import { ImpartialError } from '../errors.js';
import { nonNegativeInt } from '../http/input.js';
import { sendBytes } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { FijiRequests } from './context.js';

/** TIFFs ImageJ opens by URL (the URL must end in .tif): an image level and a prediction's parts. */
export function registerFijiFiles(router: Router, { services }: FijiRequests): void {
  router
    .on('GET', '/fiji/images/:image/:level/image.tif', async ({ actor, res, params }) => {
      const level = nonNegativeInt(params.level!, 0, 'level');
      sendBytes(res, await services.images.tiff(actor, params.image!, level), 'image/tiff');
    })
    .on('GET', '/fiji/predictions/:image/:model/:level/*', async ({ actor, res, params, rest }) => {
      const part = /^(labels|probability|entropy)\.tif$/.exec(rest)?.[1] as
        | 'labels'
        | 'probability'
        | 'entropy'
        | undefined;
      if (!part) throw new ImpartialError('not-found', `${rest} (choose labels.tif, probability.tif or entropy.tif)`);
      const level = nonNegativeInt(params.level!, 0, 'level');
      sendBytes(res, await services.predictions.tiff(actor, params.image!, params.model!, part, level), 'image/tiff');
    });
}
