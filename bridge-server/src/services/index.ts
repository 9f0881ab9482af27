import { ACCOUNT_DEFAULTS, type AccountOptions, Accounts } from './accounts/accounts.js';
import { StorageQuota } from './accounts/quota.js';
import { WORK_SESSION_DEFAULTS, type WorkSessionOptions, WorkSessions } from './accounts/work-sessions.js';
import { CatalogueService } from './catalogue/catalogue.js';
import { PackageService } from './catalogue/packages.js';
import type { ServiceContext } from './context.js';
import { ImageService } from './images.js';
import { InferenceService } from './inference.js';
import { JobService } from './jobs.js';
import { LabelService } from './labels.js';
import { LiveService } from './live.js';
import { ModelService } from './models.js';
import { PredictionService } from './predictions.js';
import { ProjectService } from './projects.js';
import { Scope } from './scope.js';
import { StrokeService } from './strokes.js';
import { TrainingService } from './training.js';

export { Access, AccountAccess, type Permission, type Shared } from './access.js';
export {
  type AccountOptions,
  Accounts,
  checkAccountName,
  type IssuedCredential,
  type Revocation,
  type SignupMode,
} from './accounts/accounts.js';
export { MIN_PASSWORD_LENGTH } from './accounts/passwords.js';
export type { WorkSessionOptions, WorkSessionSummary, WorkSessions } from './accounts/work-sessions.js';
export { type Account, type Actor, type ClientKind, named, SYSTEM } from './actor.js';
export type { ServiceContext } from './context.js';
export type { Upload } from './images.js';
export { modelChannelsOf } from './inference.js';
export type { LiveClient } from './live.js';
export type { ProjectDetail } from './projects.js';
export type { Sender } from './strokes.js';

/**
 * Every use case of the bridge, one service per concern. REST, WebSocket, Fiji and MONAI Label
 * routes only translate their wire format to and from these calls; each call takes the actor
 * asking and checks its permission through the one Access object.
 */
export interface Services {
  readonly version: string;
  projects: ProjectService;
  images: ImageService;
  strokes: StrokeService;
  training: TrainingService;
  inference: InferenceService;
  jobs: JobService;
  models: ModelService;
  predictions: PredictionService;
  labels: LabelService;
  live: LiveService;
  /** Published models: publish, browse, use; credit. */
  catalogue: CatalogueService;
  /** bioimage.io model packages: export and import. */
  packages: PackageService;
  /** Accounts and work sessions: only on a multi-user bridge (`serve --users`). */
  accounts: Accounts | null;
  workSessions: WorkSessions | null;
}

export interface UsersOptions {
  accounts?: Partial<AccountOptions>;
  sessions?: Partial<WorkSessionOptions>;
  /** What each account's images may take on disk (`--quota-gb`); none when absent. */
  quotaBytes?: number;
}

export function createServices(
  ctx: ServiceContext,
  importRoots: readonly string[],
  users: UsersOptions | null = null,
): Services {
  const scope = new Scope(ctx);
  const strokes = new StrokeService(ctx, scope);
  const projects = new ProjectService(ctx, scope);
  const models = new ModelService(ctx, scope);
  const catalogue = new CatalogueService(ctx, scope, models);
  return {
    accounts: users ? new Accounts(ctx.store, { ...ACCOUNT_DEFAULTS, ...users.accounts }) : null,
    workSessions: users ? new WorkSessions(ctx, projects, { ...WORK_SESSION_DEFAULTS, ...users.sessions }) : null,
    version: ctx.version,
    projects,
    images: new ImageService(
      ctx,
      scope,
      importRoots,
      users?.quotaBytes ? new StorageQuota(ctx, users.quotaBytes) : null,
    ),
    strokes,
    training: new TrainingService(ctx, scope),
    inference: new InferenceService(ctx, scope, models),
    jobs: new JobService(ctx, scope),
    models,
    catalogue,
    packages: new PackageService(ctx, scope, catalogue, models),
    predictions: new PredictionService(ctx, scope),
    labels: new LabelService(ctx, scope, strokes),
    live: new LiveService(ctx, scope),
  };
}
export { publicImage } from '../store/store.js';
export type { GroupLevel, GroupRecord } from '../store/tables/groups.js';
export type { UserRecord } from '../store/tables/users.js';
export type { LabelFile, StoredImage } from './types.js';
