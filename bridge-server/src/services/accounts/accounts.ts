import { badRequest, conflict, forbidden, ImpartialError, notFound } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { CredentialAccess, CredentialKind, CredentialRecord } from '../../store/tables/credentials.js';
import { GROUP_LEVELS, type GroupLevel, type GroupRecord } from '../../store/tables/groups.js';
import type { UserRecord } from '../../store/tables/users.js';
import type { Account, Actor } from '../actor.js';
import { LoginLimiter } from './login-limits.js';
import { hashPassword, passwordMatches } from './passwords.js';
import { hashSecret, MAX_SECRET_LENGTH, newSecret } from './secrets.js';

/*
 * Accounts of the multi-user bridge: users, groups, invites and the credentials that stand for a
 * user. Disabling, deleting or revoking tells every listener at once, so open WebSockets and long
 * polls of that account or credential close (see `onRevoked`).
 */

export type SignupMode = 'closed' | 'invite' | 'open';

export interface AccountOptions {
  signup: SignupMode;
  /** How long a browser session (cookie) and a login token last. */
  cookieHours: number;
  loginTokenHours: number;
}

export const ACCOUNT_DEFAULTS: AccountOptions = { signup: 'closed', cookieHours: 7 * 24, loginTokenHours: 12 };

/**
 * Who lost access: every credential of a user, or one credential; or (`live`) a user whose rights
 * changed, whose live connections (WebSockets) must reconnect to be checked again, while its
 * requests under way (an upload elsewhere) finish.
 */
export type Revocation = { user: string; live?: true } | { credential: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const INVITE_DAYS = 7;
const hoursFromNow = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

export function checkAccountName(name: string, what = 'user'): void {
  if (!NAME.test(name)) {
    throw badRequest(`${what} name ${JSON.stringify(name.slice(0, 80))}: 1-64 letters, digits, '.', '_' or '-'`);
  }
}

export interface IssuedCredential {
  /** Shown once; only its hash is kept. */
  secret: string;
  record: CredentialRecord;
}

export class Accounts {
  private readonly revokedListeners = new Set<(r: Revocation) => void>();
  readonly limiter: LoginLimiter;

  constructor(
    private readonly store: Store,
    readonly options: AccountOptions = ACCOUNT_DEFAULTS,
    limiter?: LoginLimiter,
  ) {
    this.limiter = limiter ?? new LoginLimiter();
  }

  onRevoked(listener: (r: Revocation) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** Told after the current request has answered: a sign-out's own answer is not cut off. */
  private revoked(r: Revocation): void {
    setImmediate(() => {
      for (const l of this.revokedListeners) l(r);
    });
  }

  // --- users ---

  async addUser(name: string, password: string, admin = false): Promise<UserRecord> {
    checkAccountName(name);
    if (await this.store.users.findByName(name)) throw conflict(`user ${name} already exists`);
    const hash = await hashPassword(password);
    return this.store.users.add(name, hash, admin);
  }

  listUsers(): Promise<UserRecord[]> {
    return this.store.users.list();
  }

  user(name: string): Promise<UserRecord> {
    return this.store.users.byName(name);
  }

  async setDisabled(name: string, disabled: boolean): Promise<UserRecord> {
    const u = await this.user(name);
    await this.store.users.setDisabled(u.id, disabled);
    if (disabled) this.revoked({ user: u.id });
    return this.store.users.get(u.id);
  }

  /** A new password ends the user's browser sessions and login tokens (not personal tokens). */
  async resetPassword(name: string, password: string): Promise<void> {
    const u = await this.user(name);
    await this.store.users.setHash(u.id, await hashPassword(password));
    for (const kind of ['cookie', 'login'] as const) {
      for (const c of await this.store.credentials.ofUser(u.id, kind)) await this.revokeCredential(c.id);
    }
  }

  /** Deletes the account and its credentials; its projects stay, seen by admins (and its groups by level). */
  async deleteUser(name: string): Promise<void> {
    const u = await this.user(name);
    await this.store.users.delete(u.id);
    this.revoked({ user: u.id });
  }

  /** Checks a name and password (rate-limited per name and per address); the user, or 401/429. */
  async login(name: string, password: string, address: string): Promise<UserRecord> {
    const key = name.slice(0, 64);
    await this.limiter.attempt(key, address);
    const found = NAME.test(name) ? await this.store.users.hashOf(name) : null;
    const ok = await passwordMatches(found?.hash ?? null, password);
    if (!ok || !found) throw new ImpartialError('unauthorized', 'wrong user name or password');
    if (found.user.disabled) throw new ImpartialError('unauthorized', `the account ${name} is disabled`);
    await this.limiter.succeeded(key, address);
    return found.user;
  }

  // --- credentials ---

  async issue(
    user: UserRecord,
    kind: CredentialKind,
    label: string,
    access: CredentialAccess = 'write',
  ): Promise<IssuedCredential> {
    const secret = newSecret(kind);
    const expires =
      kind === 'cookie'
        ? hoursFromNow(this.options.cookieHours)
        : kind === 'login'
          ? hoursFromNow(this.options.loginTokenHours)
          : null;
    const record = await this.store.credentials.add(hashSecret(secret), {
      user: user.id,
      kind,
      label: label.slice(0, 100),
      access,
      expires,
    });
    return { secret, record };
  }

  /** The account a secret stands for, or null (unknown, expired, revoked, or its user disabled). */
  async authenticate(secret: string): Promise<Account | null> {
    if (!secret || secret.length > MAX_SECRET_LENGTH) return null;
    const c = await this.store.credentials.byHash(hashSecret(secret));
    if (!c) return null;
    const u = await this.store.users.find(c.user);
    if (!u || u.disabled) return null;
    return {
      id: u.id,
      name: u.name,
      admin: u.admin,
      credential: c.id,
      readOnly: c.access === 'read',
      cookie: c.kind === 'cookie',
    };
  }

  /** Whether an account's credential still stands (revoked by another process, the CLI, or expired). */
  async stillValid(account: Account): Promise<boolean> {
    const user = await this.store.users.find(account.id);
    if (!user || user.disabled) return false;
    return (await this.store.credentials.find(account.credential))?.user === account.id;
  }

  /** Forgets expired browser sessions and login tokens (they are refused already). */
  async purgeExpired(): Promise<void> {
    await this.store.credentials.deleteExpired();
  }

  tokens(user: string): Promise<CredentialRecord[]> {
    return this.store.credentials.ofUser(user, 'token');
  }

  /** Revokes one of `owner`'s credentials (an admin may revoke anyone's). */
  async revoke(actor: Actor, credentialId: string): Promise<void> {
    if (actor.account?.readOnly) throw forbidden('a read-only token may not revoke credentials');
    const c = await this.store.credentials.get(credentialId);
    if (c.user !== actor.account?.id && !actor.account?.admin) throw notFound(`credential ${credentialId}`);
    await this.revokeCredential(c.id);
  }

  async revokeCredential(id: string): Promise<void> {
    await this.store.credentials.delete(id);
    this.revoked({ credential: id });
  }

  /** Revokes the personal tokens of a user that carry this label (the CLI's handle on them). */
  async revokeByLabel(name: string, label: string): Promise<number> {
    const u = await this.user(name);
    const found = (await this.tokens(u.id)).filter((t) => t.label === label);
    for (const t of found) await this.revokeCredential(t.id);
    return found.length;
  }

  // --- sign-up and invites ---

  async invite(actor: Actor): Promise<string> {
    if (!actor.account?.admin) throw forbidden('only admins make invite codes');
    const code = newSecret('invite');
    await this.store.invites.add(hashSecret(code), actor.account.id, hoursFromNow(INVITE_DAYS * 24));
    return code;
  }

  /** A new account by sign-up, as `--signup` allows; at most 10 tries per address in the login window. */
  async signup(name: string, password: string, invite: string | null, address: string): Promise<UserRecord> {
    const mode = this.options.signup;
    if (mode === 'closed') throw forbidden('sign-up is closed on this bridge: ask an admin for an account');
    // Counted like logins, under a name no account can have: an open bridge is not filled by one script.
    await this.limiter.attempt(`~signup ${address}`, address);
    const inviteHash = invite && invite.length <= MAX_SECRET_LENGTH ? hashSecret(invite) : null;
    if (mode === 'invite' && !(inviteHash && (await this.store.invites.usable(inviteHash)))) {
      throw forbidden('sign-up needs a valid, unused invite code');
    }
    const user = await this.addUser(name, password);
    if (mode === 'invite' && !(await this.store.invites.use(inviteHash!, user.id))) {
      // Someone used the same code in between: the account made with it goes again.
      await this.store.users.delete(user.id);
      throw forbidden('sign-up needs a valid, unused invite code');
    }
    return user;
  }

  // --- groups ---

  groups(): Promise<GroupRecord[]> {
    return this.store.groups.list();
  }

  addGroup(name: string, level: GroupLevel): Promise<GroupRecord> {
    checkAccountName(name, 'group');
    checkLevel(level);
    return this.store.groups.add(name, level);
  }

  /** Whether a user owns the group of this name (a group that does not exist is owned by nobody). */
  async ownsGroup(user: string, groupName: string): Promise<boolean> {
    const g = await this.store.groups.findByName(groupName);
    return !!g && (await this.store.groups.membership(g.id, user))?.owner === true;
  }

  groupsOf(user: string): Promise<Array<GroupRecord & { owner: boolean }>> {
    return this.store.groups.groupsOf(user);
  }

  async group(name: string): Promise<GroupRecord> {
    const g = await this.store.groups.findByName(name);
    if (!g) throw notFound(`group ${name}`);
    return g;
  }

  /** A new level; its members' open connections close (they may see less now, and reconnect to what they may). */
  async setGroupLevel(name: string, level: GroupLevel): Promise<GroupRecord> {
    checkLevel(level);
    const g = await this.group(name);
    await this.store.groups.setLevel(g.id, level);
    for (const m of await this.store.groups.membersOf(g.id)) this.revoked({ user: m.user, live: true });
    return this.store.groups.get(g.id);
  }

  /** Adds a user to a group (as an owner: a PI); `home` makes it where their new projects go. */
  async addMember(groupName: string, userName: string, o: { owner?: boolean; home?: boolean } = {}): Promise<void> {
    const g = await this.group(groupName);
    const u = await this.user(userName);
    await this.store.groups.setMember(g.id, u.id, o.owner ?? false);
    if (o.home) await this.store.users.setHomeGroup(u.id, g.id);
  }

  async removeMember(groupName: string, userName: string): Promise<void> {
    const g = await this.group(groupName);
    const u = await this.user(userName);
    await this.store.groups.removeMember(g.id, u.id);
    if (u.homeGroup === g.id) await this.store.users.setHomeGroup(u.id, null);
    this.revoked({ user: u.id, live: true });
  }
}

function checkLevel(level: string): asserts level is GroupLevel {
  if (!(GROUP_LEVELS as readonly string[]).includes(level)) {
    throw badRequest(`group level ${JSON.stringify(level)}: one of ${GROUP_LEVELS.join(', ')}`);
  }
}
