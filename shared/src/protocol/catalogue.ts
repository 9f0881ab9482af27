import { z } from 'zod';
import { IdSchema } from './records.js';

/*
 * The bridge's model catalogue: published model versions with what the BioImage Model Zoo asks
 * of a shared model (authors, licence, citation, tags, channels), their lineage and their use.
 */

/** ORCID iD: four groups of four digits, the last character a ISO 7064 11,2 check digit (or X). */
export function orcidValid(orcid: string): boolean {
  if (!/^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/.test(orcid)) return false;
  const digits = orcid.replaceAll('-', '');
  let total = 0;
  for (const ch of digits.slice(0, 15)) total = (total + Number(ch)) * 2;
  const check = (12 - (total % 11)) % 11;
  return digits[15] === (check === 10 ? 'X' : String(check));
}

/** What the BioImage Model Zoo allows in a model name (its rdf.yaml `name`). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9_+\- ()]{5,128}$/;

export const CatalogueAuthorSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** The bridge account, when the author has one (credit follows the account name). */
    account: z.string().max(64).optional(),
    orcid: z.string().refine(orcidValid, 'not a valid ORCID iD (0000-0000-0000-000X with its check digit)').optional(),
    affiliation: z.string().max(300).optional(),
  })
  .strict();
export type CatalogueAuthor = z.infer<typeof CatalogueAuthorSchema>;

export const CitationSchema = z
  .object({
    text: z.string().trim().min(1).max(1000),
    doi: z
      .string()
      .regex(/^10\.\d{4,9}\/\S+$/, 'a DOI such as 10.1101/2021.01.20.427458 (without https://doi.org/)')
      .optional(),
    url: z.string().url().max(2000).optional(),
  })
  .strict()
  .refine((c) => c.doi !== undefined || c.url !== undefined, 'a citation needs a doi or a url');

export const ChannelDescriptionSchema = z
  .object({
    name: z.string().trim().min(1).max(64),
    /** What the channel should show, e.g. "nuclear (DAPI)" or "membrane". */
    description: z.string().max(300).default(''),
  })
  .strict();

export const VisibilitySchema = z.enum(['private', 'group', 'everyone']);
export type Visibility = z.infer<typeof VisibilitySchema>;

const TagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9 ._+-]{0,39}$/, 'tags are 1-40 lowercase letters, digits, space, ., _, + or -');

export const PublishRequestSchema = z
  .object({
    name: z.string().trim().regex(MODEL_NAME_PATTERN, '5-128 letters, digits, spaces, _ + - ( ) (bioimage.io)'),
    description: z.string().trim().min(1).max(2000),
    /** Default: everyone who trained along the model's chain, by account name. */
    authors: z.array(CatalogueAuthorSchema).min(1).max(50).optional(),
    /** An SPDX licence id, e.g. CC-BY-4.0 or MIT. */
    license: z.string().min(1).max(64),
    cite: z.array(CitationSchema).min(1).max(20),
    tags: z.array(TagSchema).max(30).default([]),
    /** What each channel the model reads should show; default: the model's channel names. */
    channels: z.array(ChannelDescriptionSchema).max(64).optional(),
    visibility: VisibilitySchema,
    /** The group it is shared with (visibility "group"); default: the project's group. */
    group: z.string().max(64).optional(),
    /** A published entry this one replaces (its next version). */
    supersedes: IdSchema.optional(),
  })
  .strict();
export type PublishRequest = z.infer<typeof PublishRequestSchema>;

export const CatalogueEntrySchema = z.object({
  id: IdSchema,
  /** The first entry of its series; `version` counts from 1 along it. */
  series: IdSchema,
  version: z.number().int().positive(),
  /** The model version published (its id is kept: lineages refer to it). */
  model: IdSchema,
  name: z.string(),
  description: z.string(),
  authors: z.array(CatalogueAuthorSchema),
  license: z.string(),
  cite: z.array(z.object({ text: z.string(), doi: z.string().optional(), url: z.string().optional() })),
  tags: z.array(z.string()),
  channels: z.array(z.object({ name: z.string(), description: z.string() })),
  training: z.object({
    images: z.number().int(),
    strokes: z.number().int(),
    steps: z.number().int(),
    seconds: z.number(),
    /** The calibration on the person's own strokes (no ground truth), as the model saved it. */
    metrics: z.record(z.string(), z.number()),
  }),
  lineage: z.object({
    /** The catalogue entry it was fine-tuned from, if any. */
    parent: z.string().nullable(),
    /** Everyone who trained along its chain, oldest first. */
    authors: z.array(z.string()),
  }),
  visibility: VisibilitySchema,
  group: z.string().nullable(),
  publisher: z.string(),
  created: z.string(),
  cover: z.boolean(),
  supersedes: z.string().nullable(),
  supersededBy: z.string().nullable(),
  uses: z.object({
    inference: z.number().int(),
    fineTunes: z.number().int(),
    /** Distinct users who used it for inference, fine-tuned it, and either. */
    inferenceUsers: z.number().int(),
    fineTuneUsers: z.number().int(),
    users: z.number().int(),
  }),
});
export type CatalogueEntry = z.infer<typeof CatalogueEntrySchema>;

export const CatalogueQuerySchema = z
  .object({
    q: z.string().max(200).optional(),
    tag: z.string().max(40).optional(),
    author: z.string().max(200).optional(),
    channels: z.coerce.number().int().min(1).max(64).optional(),
    sort: z.enum(['uses', 'recent', 'name']).default('uses'),
    /** Superseded versions too. */
    all: z.enum(['0', '1']).optional(),
  })
  .strict();
export type CatalogueQuery = z.infer<typeof CatalogueQuerySchema>;

export const UseRequestSchema = z.object({ project: IdSchema }).strict();
