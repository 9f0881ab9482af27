/*
 * The tables of the index, as Kysely sees them: one schema for SQLite and PostgreSQL. Text for
 * ids, times (ISO 8601) and JSON; integers 0/1 for flags (SQLite has no booleans).
 */

export interface ProjectsTable {
  id: string;
  name: string;
  created: string;
  current_model: string | null;
  owner: string | null;
  grp: string | null;
}

export interface ImagesTable {
  id: string;
  project: string;
  name: string;
  width: number;
  height: number;
  channels: number;
  channel_names: string;
  dtype: string;
  levels: number;
  norm: string;
  created: string;
}

export interface StrokesTable {
  image: string;
  seq: number;
  entry: string;
}

export interface ModelsTable {
  id: string;
  project: string;
  record: string;
  created: string;
}

export interface PredictionsTable {
  image: string;
  model: string;
  status: string;
  cells: number | null;
  mean_entropy: number | null;
  tiles: string | null;
  created: string;
}

export interface JobsTable {
  id: string;
  project: string;
  kind: 'train' | 'infer';
  status: string;
  image: string | null;
  options: string;
  progress: string;
  error: string | null;
  result: string | null;
  log: string;
  created: string;
  updated: string;
  author: string | null;
}

export interface LabelsTable {
  image: string;
  tag: string;
  ext: string;
  info: string;
  created: string;
}

export interface ImageInfoTable {
  image: string;
  info: string;
}

export interface UsersTable {
  id: string;
  name: string;
  hash: string;
  admin: number;
  disabled: number;
  home_group: string | null;
  created: string;
}

export interface GroupsTable {
  id: string;
  name: string;
  level: string;
  created: string;
}

export interface MembersTable {
  grp: string;
  user: string;
  owner: number;
}

export interface CredentialsTable {
  hash: string;
  id: string;
  user: string;
  kind: string;
  label: string;
  access: string;
  created: string;
  expires: string | null;
}

export interface InvitesTable {
  hash: string;
  created_by: string;
  created: string;
  expires: string;
  used_by: string | null;
}

export interface WorkSessionsTable {
  id: string;
  user: string;
  project: string;
  status: 'running' | 'ended';
  created: string;
  expires: string;
  warned: number;
  used: string;
}

export interface CatalogueTable {
  id: string;
  series: string;
  model: string;
  publisher: string;
  visibility: string;
  grp: string | null;
  record: string;
  created: string;
  superseded_by: string | null;
}

export interface CatalogueUsesTable {
  entry: string;
  user: string;
  kind: 'inference' | 'fine-tune';
  at: string;
}

export interface Schema {
  projects: ProjectsTable;
  images: ImagesTable;
  strokes: StrokesTable;
  models: ModelsTable;
  predictions: PredictionsTable;
  jobs: JobsTable;
  labels: LabelsTable;
  image_info: ImageInfoTable;
  users: UsersTable;
  groups: GroupsTable;
  members: MembersTable;
  credentials: CredentialsTable;
  invites: InvitesTable;
  work_sessions: WorkSessionsTable;
  catalogue: CatalogueTable;
  catalogue_uses: CatalogueUsesTable;
}
