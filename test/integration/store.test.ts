// The store's suite, run against SQLite (the data folder's file) and a real PostgreSQL cluster
// started by the test on loopback: the same tables, migrations and stroke sequencing on both.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Store, StrokeEntries } from '@impartial/bridge-server/store';
import { type Drawing, type LogEntry, newId } from '@impartial/shared';
import Database from 'better-sqlite3';
import { type Postgres, postgresMissing, startPostgres } from '../helpers/postgres.js';

const line = (x: number, cls = 1): Drawing => ({
  op: 'add',
  class: cls,
  width: 2,
  points: [
    [x, 0],
    [x, 10],
  ],
});

const imageRecord = (id: string, project: string, name: string) => ({
  id,
  project,
  name,
  width: 64,
  height: 48,
  channels: 2,
  channelNames: ['a', 'b'],
  dtype: 'uint8',
  levels: 1,
  norm: { low: 0, high: 255 },
});

interface Backend {
  name: string;
  skip: string | false;
  /** Opens a store on a data folder and this backend's database for it (two calls: two bridge nodes). */
  open(dir: string, database: string | undefined): Promise<Store>;
  /** A fresh database for one test (undefined: the folder's SQLite file). */
  fresh(): string | undefined;
}

let pg: Postgres | null = null;
let databases = 0;
const backends: Backend[] = [
  { name: 'SQLite', skip: false, open: (dir) => Store.open(dir), fresh: () => undefined },
  {
    name: 'PostgreSQL',
    skip: postgresMissing() ?? false,
    open: (dir, database) => Store.open(dir, { database: database! }),
    fresh: () => pg!.database(`store_${++databases}`),
  },
];

before(async () => {
  if (!postgresMissing()) pg = await startPostgres();
});
after(() => pg?.stop());

for (const backend of backends) {
  describe(`the store on ${backend.name}`, { skip: backend.skip }, () => {
    /** A data folder and database, two stores on them (two nodes), closed and removed after `body`. */
    async function withStores(body: (a: Store, b: Store) => Promise<void>): Promise<void> {
      const dir = await mkdtemp(path.join(tmpdir(), 'impartial-store-'));
      const database = backend.fresh();
      const a = await backend.open(dir, database);
      const b = await Store.open(dir, { keepTemp: true, ...(database ? { database } : {}) });
      try {
        await body(a, b);
      } finally {
        await a.close();
        await b.close();
        await rm(dir, { recursive: true, force: true });
      }
    }

    it('keeps projects, images, predictions, labels and their removal', () =>
      withStores(async (store) => {
        const p = await store.projects.create('cells', 'p1');
        await assert.rejects(store.projects.create('again', 'p1'), { code: 'conflict' });
        await store.images.add(imageRecord('i1', p.id, 'one'));
        await store.images.add(imageRecord('i2', p.id, 'two'));
        assert.equal(await store.images.count(p.id), 2);
        assert.deepEqual((await store.images.byName(p.id, 'two'))?.id, 'i2');
        assert.deepEqual((await store.images.get('i1')).channelNames, ['a', 'b']);
        await store.images.setInfo('i1', { note: 'x' });
        await store.images.setInfo('i1', { note: 'y' });
        assert.deepEqual(await store.images.info('i1'), { note: 'y' });
        await store.predictions.put('i1', 'm1', { status: 'partial' });
        await store.predictions.put('i1', 'm1', { status: 'complete', cells: 12, meanEntropy: 0.25 });
        const prediction = await store.predictions.find('i1', 'm1');
        assert.equal(prediction?.status, 'complete');
        assert.equal(prediction?.cells, 12);
        assert.equal(prediction?.meanEntropy, 0.25);
        await store.labels.put('i1', 'final', '.zip', { rois: 3 });
        assert.equal((await store.labels.find('i1', 'final'))?.ext, '.zip');
        await store.images.remove('i1');
        assert.equal(await store.images.find('i1'), null);
        assert.equal(await store.predictions.find('i1', 'm1'), null);
        assert.equal(await store.labels.find('i1', 'final'), null);
        assert.deepEqual(
          (await store.images.list(p.id)).map((i) => i.id),
          ['i2'],
        );
      }));

    it('records jobs, appends to their log and fails what a dead process left running', () =>
      withStores(async (store) => {
        await store.projects.create('jobs', 'p1');
        const job = await store.jobs.add({
          id: 'j1',
          project: 'p1',
          kind: 'train',
          status: 'running',
          image: null,
          options: { steps: 3 },
          author: 'alice',
        });
        assert.equal(job.author, 'alice');
        await store.jobs.update('j1', { log: 'one\n', progress: { step: 1 } });
        await store.jobs.update('j1', { log: 'two\n', result: { model: 'm' } });
        assert.equal(await store.jobs.log('j1'), 'one\ntwo\n');
        assert.deepEqual((await store.jobs.get('j1')).progress, { step: 1 });
        assert.equal(await store.jobs.failInterrupted(), 1);
        const failed = await store.jobs.get('j1');
        assert.equal(failed.status, 'failed');
        assert.deepEqual(failed.result, { model: 'm' });
      }));

    it('runs one training per project and per author at a time, whichever node starts it', () =>
      withStores(async (a, b) => {
        const add = (id: string, project: string, author: string | null, kind: 'train' | 'infer' = 'train') =>
          a.jobs.add({ id, project, kind, status: 'queued', image: null, options: {}, author });
        await add('t1', 'p1', 'alice');
        await add('t2', 'p1', 'bob');
        await add('t3', 'p2', 'alice');
        await add('t4', 'p2', 'bob');
        await add('t5', 'p3', null);
        await add('t6', 'p4', null);
        await add('i1', 'p1', 'alice', 'infer');
        assert.equal((await a.jobs.startTraining('t1'))?.status, 'running');
        assert.equal(await b.jobs.startTraining('t2'), null, 'its project trains (node a)');
        assert.equal(await b.jobs.startTraining('t3'), null, 'its author trains (node a)');
        assert.equal((await b.jobs.get('t2')).status, 'queued', 'a refused start changes nothing');
        assert.equal((await b.jobs.startTraining('t4'))?.status, 'running');
        assert.equal((await b.jobs.startTraining('t5'))?.status, 'running');
        assert.equal((await a.jobs.startTraining('t6'))?.status, 'running', 'jobs without an author');
        await a.jobs.update('i1', { status: 'running' });
        assert.equal((await b.jobs.activeTraining('p1'))?.id, 't1');
        // Jobs added in the same millisecond come in id order: compare the set.
        assert.deepEqual((await b.jobs.unfinished()).map((j) => j.id).sort(), [
          'i1',
          't1',
          't2',
          't3',
          't4',
          't5',
          't6',
        ]);
        await a.jobs.update('t1', { status: 'done' });
        assert.equal(await b.jobs.startTraining('t2'), null, 'bob still trains p2');
        await b.jobs.update('t4', { status: 'cancelled' });
        assert.equal((await b.jobs.startTraining('t2'))?.status, 'running');
        assert.equal((await a.jobs.startTraining('t3'))?.status, 'running');
      }));

    it('keeps accounts, groups, credentials, sessions and the catalogue, refusing duplicates', () =>
      withStores(async (store) => {
        const alice = await store.users.add('alice', 'hash', true);
        await assert.rejects(store.users.add('alice', 'other', false), { code: 'conflict' });
        assert.equal(await store.users.count(), 1);
        const lab = await store.groups.add('lab', 'read-annotate');
        await store.groups.setMember(lab.id, alice.id, false);
        await store.groups.setMember(lab.id, alice.id, true);
        assert.equal((await store.groups.membership(lab.id, alice.id))?.owner, true);
        const session = await store.sessions.add(alice.id, 'p1', new Date(Date.now() + 3600_000).toISOString());
        await store.sessions.update(session.id, { warned: true });
        assert.equal((await store.sessions.get(session.id)).warned, true);
        await store.users.delete(alice.id);
        assert.equal(await store.groups.membership(lab.id, alice.id), null, 'memberships go with the account');
        const entry = {
          id: 'c1',
          series: 'c1',
          version: 1,
          model: 'm1',
          name: 'Nuclei',
          description: 'd',
          authors: [{ name: 'alice' }],
          license: 'MIT',
          cite: [],
          tags: [],
          channels: [],
          training: { images: 1, strokes: 1, steps: 1, seconds: 1, metrics: {} },
          lineage: { parent: null, authors: ['alice'] },
          visibility: 'everyone' as const,
          group: null,
          publisher: 'alice',
          publisherId: 'alice',
          groupId: null,
          created: new Date().toISOString(),
          cover: false,
          supersedes: null,
        };
        await store.catalogue.add(entry);
        await assert.rejects(store.catalogue.add({ ...entry, id: 'c2', series: 'c2' }), { code: 'conflict' });
        await store.catalogue.recordUse('c1', 'bob', 'inference');
        await store.catalogue.recordUse('c1', 'bob', 'fine-tune');
        await store.catalogue.recordUse('c1', 'carol', 'inference');
        const uses = (await store.catalogue.find('c1')).uses;
        assert.deepEqual(uses, { inference: 2, fineTunes: 1, inferenceUsers: 2, fineTuneUsers: 1, users: 2 });
      }));

    it('gives two nodes appending to one image at once one gapless sequence, each stroke once', () =>
      withStores(async (a, b) => {
        await a.projects.create('strokes', 'p1');
        await a.images.add(imageRecord('i1', 'p1', 'one'));
        const logA = new StrokeEntries(a.db, a.dialect === 'postgres');
        const logB = new StrokeEntries(b.db, b.dialect === 'postgres');
        const made: LogEntry[] = await Promise.all(
          Array.from({ length: 40 }, (_, k) =>
            (k % 2 ? logA : logB).append('i1', k % 2 ? 'alice' : 'bob', line(k), `r${k}`),
          ),
        );
        assert.deepEqual(
          made.map((e) => e.seq).sort((x, y) => x - y),
          Array.from({ length: 40 }, (_, k) => k + 1),
        );
        const log = await logB.list('i1');
        assert.deepEqual(
          log.map((e) => e.seq),
          Array.from({ length: 40 }, (_, k) => k + 1),
        );
        // A batch and an undo in one transaction each; a resend with its ref is the entry it made.
        const batch = await logA.appendMany('i1', 'alice', [1], [line(50), line(51)]);
        assert.deepEqual(
          batch.map((e) => [e.seq, e.op]),
          [
            [41, 'undo'],
            [42, 'add'],
            [43, 'add'],
          ],
        );
        await assert.rejects(logB.undoRedo('i1', 'bob', 'undo', 1), { code: 'conflict' });
        assert.equal((await logB.byRef('i1', 'alice', 'r3'))?.seq, made[3]!.seq);
        assert.equal((await logA.drawings('i1')).length, 41);
        assert.equal(await logA.hash(['i1']), await logB.hash(['i1']));
      }));

    it('opens the same database again without migrating twice', () =>
      withStores(async (a, b) => {
        await a.projects.create('one', 'p1');
        assert.deepEqual(
          (await b.projects.list()).map((p) => p.id),
          ['p1'],
        );
      }));
  });
}

describe('a data folder made before migrations', () => {
  it('keeps its rows, gains the columns added since, and fails a duplicate running training', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'impartial-store-old-'));
    try {
      // The first shipped schema of two tables, without the columns added later.
      const old = new Database(path.join(dir, 'impartial.sqlite'));
      old.exec(`CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, created TEXT NOT NULL,
        current_model TEXT);
        CREATE TABLE jobs (id TEXT PRIMARY KEY, project TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
        image TEXT, options TEXT NOT NULL, progress TEXT NOT NULL, error TEXT, result TEXT,
        log TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, updated TEXT NOT NULL);
        INSERT INTO projects VALUES ('p-old', 'old', '2025-01-01T00:00:00Z', NULL);
        INSERT INTO jobs VALUES ('j-a', 'p-old', 'train', 'running', NULL, '{}', '{}', NULL, NULL, '',
          '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
        INSERT INTO jobs VALUES ('j-b', 'p-old', 'train', 'running', NULL, '{}', '{}', NULL, NULL, '',
          '2025-01-02T00:00:00Z', '2025-01-02T00:00:00Z');`);
      old.close();
      const store = await Store.open(dir);
      try {
        assert.equal((await store.projects.get('p-old')).name, 'old');
        const p = await store.projects.create('new', newId('p'), { owner: 'alice', group: null });
        assert.equal((await store.projects.get(p.id)).owner, 'alice', 'projects gained their owner column');
        // Two trainings of one project running: the older is failed, so that the rule can hold from now on.
        assert.equal((await store.jobs.get('j-a')).status, 'failed');
        assert.equal((await store.jobs.get('j-b')).status, 'running');
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
