// Tests of bridge-server/src/cli/args.ts: command-line parsing (parseArgs, UsageError).
import assert from 'node:assert/strict';
import test from 'node:test';
import { parseArgs, UsageError } from '@impartial/bridge-server';

const SPEC = {
  images: { kind: 'list' },
  labels: { kind: 'list' },
  out: { kind: 'string' },
  epochs: { kind: 'number', default: 10 },
  verbose: { kind: 'boolean', default: false },
  cache: { kind: 'boolean', default: true },
  device: { kind: 'string', default: 'auto' },
} as const;

const parse = (argv: string[]) => parseArgs(argv, SPEC);

const usage = (argv: string[], message: RegExp) =>
  assert.throws(
    () => parse(argv),
    (e: unknown) => e instanceof UsageError && e.name === 'UsageError' && message.test(e.message),
    `argv ${JSON.stringify(argv)}`,
  );

test('defaults apply when a flag is absent', () => {
  assert.deepEqual(parse([]), { _: [], epochs: 10, verbose: false, cache: true, device: 'auto' });
});

test('lists take every following word up to the next --flag', () => {
  const a = parse(['--images', 'a.tif', 'b.tif', '--labels', 'c.zip']);
  assert.deepEqual(a.images, ['a.tif', 'b.tif']);
  assert.deepEqual(a.labels, ['c.zip']);
  assert.deepEqual(a._, []);
  assert.deepEqual(parse(['--images=a', 'b', 'c', '--verbose']).images, ['a', 'b', 'c']);
  assert.deepEqual(parse(['--labels', 'x', '--labels', 'y']).labels, ['y']);
  usage(['--images', '--verbose'], /--images needs at least one value/);
  usage(['--images'], /--images needs at least one value/);
});

test('--x=y and --x y give strings; positional words are collected', () => {
  assert.equal(parse(['--out=model.dir']).out, 'model.dir');
  assert.equal(parse(['--out', 'model.dir']).out, 'model.dir');
  assert.equal(parse(['--out=a=b']).out, 'a=b');
  assert.equal(parse(['--out=']).out, '');
  const p = parse(['train', '--device', 'cpu', 'extra']);
  assert.deepEqual(p._, ['train', 'extra']);
  assert.equal(p.device, 'cpu');
  usage(['--out'], /--out needs a value/);
  usage(['--out', '--verbose'], /--out needs a value/);
});

test('booleans: --x sets true, --no-x sets false', () => {
  assert.equal(parse(['--verbose']).verbose, true);
  assert.equal(parse(['--no-cache']).cache, false);
  assert.equal(parse(['--no-verbose']).verbose, false);
  assert.equal(parse(['--cache']).cache, true);
  // a boolean takes no value: the next word stays positional
  assert.deepEqual(parse(['--verbose', 'file.tif'])._, ['file.tif']);
  // --no- only negates booleans
  usage(['--no-out'], /unknown option --no-out/);
});

test('a boolean given an explicit value is not silently set to true', () => {
  let result: boolean | undefined;
  try {
    result = parse(['--verbose=false']).verbose as boolean;
  } catch (e) {
    assert.ok(e instanceof UsageError, `threw ${String(e)}`);
    return;
  }
  assert.equal(result, false, '--verbose=false parsed as verbose = true');
});

test('numbers are parsed and checked', () => {
  assert.equal(parse(['--epochs', '5']).epochs, 5);
  assert.equal(parse(['--epochs=1e3']).epochs, 1000);
  assert.equal(parse(['--epochs', '-3']).epochs, -3);
  assert.equal(parse(['--epochs=0.25']).epochs, 0.25);
  assert.equal(typeof parse(['--epochs', '5']).epochs, 'number');
  usage(['--epochs', 'abc'], /--epochs must be a number, got "abc"/);
  usage(['--epochs=Infinity'], /--epochs must be a number/);
  usage(['--epochs'], /--epochs needs a value/);
});

test('an empty number (--epochs=) is refused, not read as 0', () => {
  usage(['--epochs='], /--epochs/);
});

test('unknown options are usage errors', () => {
  usage(['--foo'], /unknown option --foo/);
  usage(['--foo=1'], /unknown option --foo/);
  usage(['--images', 'a', '--bogus', 'b'], /unknown option --bogus/);
});
