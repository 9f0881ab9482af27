import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

/*
 * The bioimage.io JSON schema shipped with the bridge (bridge-server/schemas/bioimageio). Compiling
 * it takes about a second, so validation runs in the packaging worker or the CLI, never on the
 * bridge's event loop; the SPDX licence ids are read from it once.
 */

const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/bioimageio/bioimageio_schema.json', import.meta.url));
const MODEL_0_5 = 'bioimageio__spec__model__v0_5__ModelDescr';

type Schema = { $defs: Record<string, { properties: Record<string, unknown> }> };
let schema: Schema | null = null;
const loaded = (): Schema => {
  schema ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schema;
  return schema;
};

let licences: Set<string> | null = null;

/** The SPDX licence ids a bioimage.io model may name. */
export function licenceIds(): Set<string> {
  if (!licences) {
    const license = loaded().$defs[MODEL_0_5]!.properties.license as { anyOf: Array<{ enum?: string[] }> };
    licences = new Set(license.anyOf.flatMap((a) => a.enum ?? []));
  }
  return licences;
}

export interface RdfValidators {
  /** Errors against the whole schema (what any consumer checks), as "path: message". */
  whole(rdf: unknown): string[];
  /** Errors against the model 0.5 description alone: more precise messages for a model package. */
  model(rdf: unknown): string[];
}

let validators: RdfValidators | null = null;

export function rdfValidators(): RdfValidators {
  if (validators) return validators;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // Formats the schema names but ajv does not know: structure is what is checked here.
  for (const f of ['uri', 'file-path', 'path', 'email', 'date', 'date-time']) ajv.addFormat(f, true);
  ajv.addSchema(loaded(), 'bioimageio');
  const whole = ajv.getSchema('bioimageio')!;
  const model = ajv.compile({ $ref: `bioimageio#/$defs/${MODEL_0_5}` });
  const errorsOf = (v: typeof whole) => (rdf: unknown) =>
    v(rdf) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '(top)'}: ${e.message ?? e.keyword}`);
  validators = { whole: errorsOf(whole), model: errorsOf(model) };
  return validators;
}
