import { mkdirSync, rmSync } from 'node:fs';
import { type Db, openDatabase } from './db.js';
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

/** The datastore: the SQLite index (one table object per record kind) and where the files live. */
export class Store {
  readonly db: Db;
  readonly layout: DataLayout;
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

  /** `keepTemp`: another process (a running bridge) may be using the folder; its uploads stay. */
  constructor(dataDir: string, o: { keepTemp?: boolean } = {}) {
    this.layout = dataLayout(dataDir);
    mkdirSync(this.layout.root, { recursive: true });
    // What a killed process left half-written (imports, models, uploads) is never used: start clean.
    if (!o.keepTemp) rmSync(this.layout.temp, { recursive: true, force: true });
    mkdirSync(this.layout.temp, { recursive: true });
    this.db = openDatabase(this.layout.database);
    this.projects = new ProjectTable(this.db);
    this.images = new ImageTable(this.db, (id) => this.layout.image(id));
    this.models = new ModelTable(this.db);
    this.predictions = new PredictionTable(this.db);
    this.jobs = new JobTable(this.db);
    this.labels = new LabelTable(this.db);
    this.users = new UserTable(this.db);
    this.groups = new GroupTable(this.db);
    this.credentials = new CredentialTable(this.db);
    this.invites = new InviteTable(this.db);
    this.sessions = new WorkSessionTable(this.db);
    this.catalogue = new CatalogueTable(this.db);
  }

  close(): void {
    this.db.close();
  }
}
