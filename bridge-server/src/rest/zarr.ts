import type { Router } from '../http/router.js';
import { serveZarr } from '../http/static-files.js';
import type { TransportOptions } from './options.js';

/** The OME-Zarr files of images and predictions, as Viv and zarrita read them. */
export function registerZarr(router: Router, { services }: TransportOptions): void {
  router
    .on('GET', '/zarr/images/:image/*', async ({ actor, req, res, params, rest }) =>
      serveZarr(req, res, await services.images.zarrFiles(actor, params.image!, rest), rest),
    )
    .on('GET', '/zarr/predictions/:image/:model/*', async ({ actor, req, res, params, rest }) =>
      serveZarr(req, res, await services.predictions.zarrFiles(actor, params.image!, params.model!), rest),
    );
}
