import { z } from 'zod';
import { ImpartialError } from '../errors.js';
import { parseInput as parse } from '../http/input.js';
import { readFields, sendJson } from '../http/respond.js';
import type { RouteContext, Router } from '../http/router.js';
import type { Accounts } from '../services/index.js';
import { accountOf, publicUser } from './account.js';

/*
 * The admin page's routes: users (add, disable, enable, make admin), invite codes, groups and
 * members. Owners of a group (a PI) manage their own group too, as in OMERO: its members and its
 * level, except making it read-write, which stays with admins.
 */

const NewUser = z.object({
  name: z.string().min(1).max(64),
  password: z.string().max(4096),
  admin: z.enum(['true', 'false']).default('false'),
});
const UserChange = z.object({ name: z.string().min(1).max(64), action: z.enum(['disable', 'enable']) });
const NewGroup = z.object({
  name: z.string().min(1).max(64),
  level: z.enum(['private', 'read-only', 'read-annotate', 'read-write']),
});
const Member = z.object({
  group: z.string().min(1).max(64),
  user: z.string().min(1).max(64),
  owner: z.enum(['true', 'false']).default('false'),
  home: z.enum(['true', 'false']).default('false'),
  remove: z.enum(['true', 'false']).default('false'),
});

export function registerAdmin(router: Router, accounts: Accounts): void {
  const admin = (c: RouteContext) => {
    const account = accountOf(c.actor);
    if (!account.admin || account.readOnly) throw new ImpartialError('forbidden', 'only admins may do this');
  };
  /** An admin, or an owner of this group. */
  const manager = async (c: RouteContext, group: string) => {
    const account = accountOf(c.actor);
    if (account.readOnly || !(account.admin || (await accounts.ownsGroup(account.id, group)))) {
      throw new ImpartialError('forbidden', `only admins and owners of group ${group} may change it`);
    }
    return account;
  };

  router.on('GET', '/api/admin/users', async (c) => {
    admin(c);
    sendJson(c.res, 200, (await accounts.listUsers()).map(publicUser));
  });
  router.on('POST', '/api/admin/users', async (c) => {
    admin(c);
    const body = parse(NewUser, await readFields(c.req), 'user');
    sendJson(c.res, 201, publicUser(await accounts.addUser(body.name, body.password, body.admin === 'true')));
  });
  router.on('POST', '/api/admin/users/state', async (c) => {
    admin(c);
    const body = parse(UserChange, await readFields(c.req), 'user');
    sendJson(c.res, 200, publicUser(await accounts.setDisabled(body.name, body.action === 'disable')));
  });
  router.on('POST', '/api/admin/invites', async (c) => {
    admin(c);
    sendJson(c.res, 201, { invite: await accounts.invite(c.actor) });
  });
  router.on('GET', '/api/admin/groups', async (c) => {
    admin(c);
    sendJson(c.res, 200, await accounts.groups());
  });
  router.on('POST', '/api/admin/groups', async (c) => {
    const body = parse(NewGroup, await readFields(c.req), 'group');
    const existing = (await accounts.groups()).some((g) => g.name === body.name);
    if (!existing) {
      admin(c);
      return sendJson(c.res, 201, await accounts.addGroup(body.name, body.level));
    }
    const account = await manager(c, body.name);
    if (body.level === 'read-write' && !account.admin) {
      throw new ImpartialError('forbidden', 'only admins make a group read-write (members could then delete its data)');
    }
    sendJson(c.res, 200, await accounts.setGroupLevel(body.name, body.level));
  });
  router.on('POST', '/api/admin/members', async (c) => {
    const body = parse(Member, await readFields(c.req), 'member');
    const account = await manager(c, body.group);
    // Where someone's new projects go is theirs (or an admin's) to say.
    if (body.home === 'true' && !account.admin && body.user !== account.name) {
      throw new ImpartialError('forbidden', `only ${body.user} or an admin may make ${body.group} their home group`);
    }
    if (body.remove === 'true') await accounts.removeMember(body.group, body.user);
    else await accounts.addMember(body.group, body.user, { owner: body.owner === 'true', home: body.home === 'true' });
    sendJson(c.res, 200, { ok: true });
  });
}
