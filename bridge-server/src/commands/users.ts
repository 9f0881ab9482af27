import { parseArgs, UsageError } from '../cli/args.js';
import { Accounts, type SignupMode } from '../services/index.js';
import { Store } from '../store/store.js';

/*
 * Accounts of a multi-user bridge, managed on the machine that holds its data folder (the bridge
 * may be running: SQLite's WAL lets both write). Passwords come on standard input, never as an
 * argument (which `ps` would show to every user of the machine).
 */

export const USERS_HELP = `impartial users <action> [NAME] [--data DIR] [options]

  add NAME [--admin] --password-stdin    a new account, its password read from standard input
  list                                    every account: name, admin, disabled
  disable NAME | enable NAME              a disabled account is signed out everywhere at once
  reset-password NAME --password-stdin    a new password; the account's browser sessions end
  delete NAME                             the account goes; its projects stay (admins see them)
  token NAME [--label L] [--read-only]    a personal access token for scripts, Fiji and MONAI
                                          clients, printed once (only its hash is kept)
  revoke NAME --label L                   revokes NAME's tokens with that label

  --data DIR    the bridge's data folder (default ./impartial-data)
  --db URL      the bridge's PostgreSQL index, when it runs with --db`;

export const GROUPS_HELP = `impartial groups <action> [NAME] [--data DIR] [options]

  add NAME --level L           a group; L is private, read-only, read-annotate or read-write
                               (what members may do with one another's projects)
  level NAME --level L         changes the level
  list                         every group and its members
  member NAME USER [--owner] [--home]
                               adds USER (as a group owner: sees and changes everything in it;
                               --home: USER's new projects are shared in this group)
  remove NAME USER             takes USER out of the group

  --data DIR    the bridge's data folder (default ./impartial-data)
  --db URL      the bridge's PostgreSQL index, when it runs with --db`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > 64 * 1024) throw new UsageError('standard input is too long');
  }
  // One line: the password, without its line ending.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function withAccounts<T>(
  data: string,
  database: string | undefined,
  run: (accounts: Accounts, store: Store) => Promise<T>,
): Promise<T> {
  const store = await Store.open(data, { keepTemp: true, ...(database ? { database } : {}) });
  const accounts = new Accounts(store, { signup: 'closed' as SignupMode, cookieHours: 1, loginTokenHours: 1 });
  return run(accounts, store).finally(() => store.close());
}

export async function usersCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    data: { kind: 'string', default: 'impartial-data' },
    db: { kind: 'string' },
    admin: { kind: 'boolean', default: false },
    'password-stdin': { kind: 'boolean', default: false },
    label: { kind: 'string' },
    'read-only': { kind: 'boolean', default: false },
  });
  const [action, name, ...extra] = a._;
  if (!action) throw new UsageError('which action? add, list, disable, enable, reset-password, delete, token, revoke');
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const needName = () => {
    if (!name) throw new UsageError(`${action} needs a user NAME`);
    return name;
  };
  const password = async () => {
    if (!a['password-stdin'])
      throw new UsageError(`${action} reads the password from standard input: --password-stdin`);
    return readStdin();
  };
  return withAccounts(a.data as string, a.db as string | undefined, async (accounts) => {
    switch (action) {
      case 'add': {
        const user = await accounts.addUser(needName(), await password(), a.admin as boolean);
        process.stdout.write(`added ${user.name}${user.admin ? ' (admin)' : ''}\n`);
        return 0;
      }
      case 'list':
        for (const u of await accounts.listUsers()) {
          const flags = [u.admin ? 'admin' : '', u.disabled ? 'disabled' : ''].filter(Boolean).join(', ');
          process.stdout.write(`${u.name}${flags ? `\t${flags}` : ''}\n`);
        }
        return 0;
      case 'disable':
      case 'enable':
        await accounts.setDisabled(needName(), action === 'disable');
        process.stdout.write(`${action}d ${name}\n`);
        return 0;
      case 'reset-password':
        await accounts.resetPassword(needName(), await password());
        process.stdout.write(`new password set for ${name}\n`);
        return 0;
      case 'delete':
        await accounts.deleteUser(needName());
        process.stdout.write(`deleted ${name}\n`);
        return 0;
      case 'token': {
        const user = await accounts.user(needName());
        const access = a['read-only'] ? 'read' : 'write';
        const { secret } = await accounts.issue(user, 'token', (a.label as string | undefined) ?? 'cli', access);
        process.stdout.write(`${secret}\n`);
        return 0;
      }
      case 'revoke': {
        if (!a.label) throw new UsageError('revoke needs --label L (the label the token was made with)');
        const n = await accounts.revokeByLabel(needName(), a.label as string);
        process.stdout.write(`revoked ${n} token(s)\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown action ${action}`);
    }
  });
}

export async function groupsCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    data: { kind: 'string', default: 'impartial-data' },
    db: { kind: 'string' },
    level: { kind: 'string' },
    owner: { kind: 'boolean', default: false },
    home: { kind: 'boolean', default: false },
  });
  const [action, name, user, ...extra] = a._;
  if (!action) throw new UsageError('which action? add, level, list, member, remove');
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  const needName = () => {
    if (!name) throw new UsageError(`${action} needs a group NAME`);
    return name;
  };
  const needUser = () => {
    if (!user) throw new UsageError(`${action} needs a USER`);
    return user;
  };
  const level = () => {
    if (!a.level) throw new UsageError(`${action} needs --level private|read-only|read-annotate|read-write`);
    return a.level as 'private';
  };
  return withAccounts(a.data as string, a.db as string | undefined, async (accounts, store) => {
    switch (action) {
      case 'add':
        process.stdout.write(`added group ${(await accounts.addGroup(needName(), level())).name}\n`);
        return 0;
      case 'level':
        process.stdout.write(`${(await accounts.setGroupLevel(needName(), level())).name} is now ${a.level}\n`);
        return 0;
      case 'list':
        for (const g of await accounts.groups()) {
          const members = await Promise.all(
            (await store.groups.membersOf(g.id)).map(
              async (m) => `${(await store.users.find(m.user))?.name ?? m.user}${m.owner ? ' (owner)' : ''}`,
            ),
          );
          process.stdout.write(`${g.name}\t${g.level}\t${members.join(', ')}\n`);
        }
        return 0;
      case 'member':
        await accounts.addMember(needName(), needUser(), { owner: a.owner as boolean, home: a.home as boolean });
        process.stdout.write(`${user} is in ${name}\n`);
        return 0;
      case 'remove':
        await accounts.removeMember(needName(), needUser());
        process.stdout.write(`${user} left ${name}\n`);
        return 0;
      default:
        throw new UsageError(`unknown action ${action}`);
    }
  });
}
