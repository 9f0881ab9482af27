import { mkdirSync, rmSync } from 'node:fs';
import { ImpartialError } from '../errors.js';
import { type DatabaseTarget, type Db, openDatabase, postgresTarget } from './database/open.js';
import { DataFiles } from './files.js';
import { ImportRegistry } from './import-progress.js';
import { type DataLayout, dataLayout } from './paths.js';
import { CatalogueTable } from './tables/catalogue.js';
import { CredentialTable } from './tables/credentials.js';
import { GroupTable } from './tables/groups.js';
import { ImageTable } from './tables/images.js';
import { InviteTable } from './tables/invites.js';
import { JobTable } from './tables/jobs.js';
import { LabelTable } from './tables/labels.js';
import { ModelTable } from './tables/models.js';
import { PredictionTable } from './tables/predictions.js';
import { ProjectTable } from './tables/projects.js';
import { UserTable } from './tables/users.js';
import { WorkSessionTable } from './tables/work-sessions.js';

export { type ImageNorm, publicImage, type StoredImage } from './tables/images.js';
export { modelRecordOf } from './tables/models.js';

export interface StoreOptions {
  /** Another process (a running bridge) may be using the folder: its uploads stay. */
  keepTemp?: boolean;
  /** A PostgreSQL URL for the index (several bridge nodes share it); default: the folder's SQLite file. */
  database?: string;
  /** An S3 URL where images, models and predictions live (the data folder caches them); default: the folder. */
  objects?: string;
}

/** The datastore: the index (one table object per record kind) and where the files live. */
export class Store {
  readonly db: Db;
  readonly dialect: DatabaseTarget['kind'];
  readonly layout: DataLayout;
  /** Where the folders under the layout really live: the data folder, or object storage. */
  readonly files: DataFiles;
  readonly imports = new ImportRegistry();
  readonly projects: ProjectTable;
  readonly images: ImageTable;
  readonly models: ModelTable;
  readonly predictions: PredictionTable;
  readonly jobs: JobTable;
  readonly labels: LabelTable;
  readonly users: UserTable;
  readonly groups: GroupTable;
  readonly credentials: CredentialTable;
  readonly invites: InviteTable;
  readonly sessions: WorkSessionTable;
  readonly catalogue: CatalogueTable;

  /** Opens the data folder and the index, brought to the newest schema. */
  static async open(dataDir: string, o: StoreOptions = {}): Promise<Store> {
    const layout = dataLayout(dataDir);
    mkdirSync(layout.root, { recursive: true });
    // What a killed process left half-written (imports, models, uploads) is never used: start clean.
    if (!o.keepTemp) rmSync(layout.temp, { recursive: true, force: true });
    mkdirSync(layout.temp, { recursive: true });
    const target: DatabaseTarget = o.database ? postgresTarget(o.database) : { kind: 'sqlite', file: layout.database };
    const files = o.objects ? await DataFiles.objectStore(layout.root, o.objects) : DataFiles.folder(layout.root);
    return new Store(layout, files, await openDatabase(target), target.kind);
  }

  private constructor(layout: DataLayout, files: DataFiles, db: Db, dialect: DatabaseTarget['kind']) {
    this.layout = layout;
    this.files = files;
    this.db = db;
    this.dialect = dialect;
    this.projects = new ProjectTable(db);
    this.images = new ImageTable(db, (id) => layout.image(id));
    this.models = new ModelTable(db);
    this.predictions = new PredictionTable(db);
    this.jobs = new JobTable(db);
    this.labels = new LabelTable(db);
    this.users = new UserTable(db);
    this.groups = new GroupTable(db);
    this.credentials = new CredentialTable(db);
    this.invites = new InviteTable(db);
    this.sessions = new WorkSessionTable(db);
    this.catalogue = new CatalogueTable(db);
  }

  /** A model version's folder, here (fetched from object storage when this machine lacks it). */
  modelFolder(id: string): Promise<string> {
    return this.folder(this.layout.model(id), `model ${id}`);
  }

  /** A catalogue entry's folder, here (fetched when this machine lacks it). */
  catalogueFolder(id: string): Promise<string> {
    return this.folder(this.layout.catalogue(id), `catalogue entry ${id}`);
  }

  private async folder(dir: string, what: string): Promise<string> {
    if (!(await this.files.have(dir))) throw new ImpartialError('not-found', `the files of ${what} are missing`);
    return dir;
  }

  close(): Promise<void> {
    this.files.close();
    return this.db.destroy();
  }
}
