import type { Router } from '../http/router.js';
import { serveFile } from '../http/static-files.js';
import type { TransportOptions } from './options.js';

/** The OME-Zarr files of images and predictions, as Viv and zarrita read them. */
export function registerZarr(router: Router, { services }: TransportOptions): void {
  router
    .on('GET', '/zarr/images/:image/*', async ({ actor, req, res, params, rest }) =>
      serveFile(req, res, await services.images.zarrDir(actor, params.image!), rest),
    )
    .on('GET', '/zarr/predictions/:image/:model/*', async ({ actor, req, res, params, rest }) =>
      serveFile(req, res, await services.predictions.zarrDir(actor, params.image!, params.model!), rest),
    );
}
