import { CORE_DEPTH, SEPARATIONS, type Separation } from '@impartial/shared';
/** A usage problem: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** 'list' takes every following word up to the next --flag. */
  kind: 'string' | 'number' | 'boolean' | 'list';
  default?: string | number | boolean | string[];
}

export type ParsedArgs = Record<string, string | number | boolean | string[] | undefined> & { _: string[] };

/** Parses `--flag value`, `--flag=value`, `--list a b c` and positional words. */
export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (const [name, s] of Object.entries(spec)) if (s.default !== undefined) out[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--')) {
      out._.push(word);
      continue;
    }
    const [rawName, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const negated = rawName.startsWith('no-') && spec[rawName.slice(3)]?.kind === 'boolean';
    const name = negated ? rawName.slice(3) : rawName;
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${rawName}`);
    if (s.kind === 'boolean') {
      if (inline === undefined) {
        out[name] = !negated;
        continue;
      }
      if (negated || !['true', 'false', '1', '0'].includes(inline))
        throw new UsageError(`--${rawName} is a switch; give it alone (or =true / =false), not "${inline}"`);
      out[name] = inline === 'true' || inline === '1';
      continue;
    }
    if (s.kind === 'list') {
      const values = inline !== undefined ? [inline] : [];
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values.push(argv[++i]!);
      if (values.length === 0) throw new UsageError(`--${name} needs at least one value`);
      out[name] = values;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--')))
      throw new UsageError(`--${name} needs a value`);
    if (s.kind === 'number') {
      const n = value.trim() === '' ? NaN : Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
      out[name] = n;
    } else out[name] = value;
  }
  return out;
}

/** --separation components|seeded as instance options. */
export function separationOption(value: string): { separation: Separation } {
  const separation = SEPARATIONS.find((s) => s === value);
  if (!separation) throw new UsageError(`--separation must be ${SEPARATIONS.join(', ')}`);
  return { separation };
}

/** "seeded watershed, threshold 0.4, seeds above 0.65 (>= 18 px)" */
export function describeInstances(o: {
  separation: string;
  threshold: number;
  seedThreshold: number;
  seedMinSize: number;
}): string {
  if (o.separation === 'seeded')
    return `seeded watershed, threshold ${o.threshold}, seeds above ${o.seedThreshold} (>= ${o.seedMinSize} px)`;
  if (o.separation === 'distance')
    return (
      `watershed on cores, threshold ${o.threshold}, seeds ` +
      `${(o.seedThreshold * CORE_DEPTH).toFixed(1)} px deep (>= ${o.seedMinSize} px)`
    );
  return `connected components, threshold ${o.threshold}`;
}
