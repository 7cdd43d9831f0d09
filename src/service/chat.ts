import { and, asc, desc, eq, sql } from 'drizzle-orm';
import {
  accounts,
  chatLinks,
  handledDeliveries,
  organisations,
  roles,
  subscriptions,
  teamsConversations,
} from '../../db/schema.js';
import { invalid, refused } from '../domain/errors.js';
import type { LinkTarget } from '../domain/roles.js';
import type { ServiceDeps } from './accounts.js';
import type { ChatOrigin, ChatUserRef, RequestContext } from './context.js';
import { audit, type Executor, getOrg, loadPrincipal } from './store.js';

/** The @nhs.net address an administrator linked to this chat user, if any. */
export async function linkedAddress(deps: ServiceDeps, user: ChatUserRef): Promise<string | null> {
  const [row] = await deps.db
    .select({ address: chatLinks.address })
    .from(chatLinks)
    .where(
      and(
        eq(chatLinks.platform, user.platform),
        eq(chatLinks.tenant, user.tenant),
        eq(chatLinks.userId, user.userId),
      ),
    );
  return row?.address ?? null;
}

export interface LinkResult {
  user: ChatUserRef;
  address: string;
  previous: string | null;
}

/**
 * `link @user ADDRESS`: vouches that a chat user is the holder of an @nhs.net address, for people
 * whose chat profile e-mail is not one. A link hands over everything the address may do, so a
 * local administrator links only their organisations' addresses holding no role beyond their own,
 * and changes only links they could have made (Principal.mayLink); NAS and the operator link anyone.
 */
export async function linkChatUser(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { user: ChatUserRef; address: string },
): Promise<LinkResult> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const target = await linkTarget(tx, input.address);
    const verdict = principal.mayLink(target);
    if (verdict === 'not-your-organisation') {
      throw refused(
        'LINK_NOT_ALLOWED',
        target.home && principal.canView(target.home)
          ? `Only a local administrator of ${target.home.ods} or NAS can link someone to ${input.address}.`
          : `${input.address} is not an account of an organisation you administer, so only NAS or the operator can link someone to it.`,
      );
    }
    if (verdict === 'beyond-your-roles') {
      throw refused(
        'LINK_BEYOND_YOUR_ROLES',
        `${input.address} holds a role you do not hold yourself (nas-admin, or a role in another organisation), and a link hands over everything the address may do. Ask NAS or the operator to link it.`,
      );
    }
    if (ctx.chat && ctx.chat.platform === input.user.platform && ctx.chat.userId === input.user.userId) {
      throw refused(
        'LINK_NOT_SELF',
        'You cannot link your own chat account: ask another administrator to vouch for you.',
      );
    }
    const [previous] = await tx
      .select({ address: chatLinks.address })
      .from(chatLinks)
      .where(
        and(
          eq(chatLinks.platform, input.user.platform),
          eq(chatLinks.tenant, input.user.tenant),
          eq(chatLinks.userId, input.user.userId),
        ),
      )
      .for('update');
    if (
      previous &&
      previous.address !== input.address &&
      principal.mayLink(await linkTarget(tx, previous.address)) !== 'allowed'
    ) {
      throw refused(
        'LINK_NOT_YOURS',
        'This chat user is already linked to an address you could not link them to yourself, so only NAS or the operator can change that link.',
      );
    }
    await tx
      .insert(chatLinks)
      .values({ ...input.user, address: input.address, linkedBy: principal.label, linkedAt: ctx.now })
      .onConflictDoUpdate({
        target: [chatLinks.platform, chatLinks.tenant, chatLinks.userId],
        set: { address: input.address, linkedBy: principal.label, linkedAt: ctx.now },
      });
    await audit(tx, ctx, {
      action: 'link',
      address: input.address,
      org: target.home?.ods ?? null,
      reason: `${input.user.platform} user ${input.user.userId} (${input.user.tenant}) linked${previous ? `; was ${previous.address}` : ''}`,
    });
    return { user: input.user, address: input.address, previous: previous?.address ?? null };
  });
}

/**
 * What an address may do, as `link` weighs it: its home and every role it holds. The account row
 * is locked, so a joiner cannot move it between this check and the link.
 */
async function linkTarget(tx: Executor, address: string): Promise<LinkTarget> {
  const [account] = await tx
    .select({ homeOrg: accounts.homeOrg })
    .from(accounts)
    .where(eq(accounts.address, address))
    .for('update');
  const held = await tx
    .select({ role: roles.role, ods: roles.org, kind: organisations.kind })
    .from(roles)
    .leftJoin(organisations, eq(organisations.ods, roles.org))
    .where(eq(roles.address, address));
  return {
    home: account ? await getOrg(tx, account.homeOrg) : null,
    roles: held.map((r) => ({
      role: r.role,
      // A role for an organisation the bot no longer knows still counts, as one nobody local holds.
      org: r.ods === '' ? null : { ods: r.ods, kind: r.kind ?? 'trust' },
    })),
  };
}

function channelOf(ctx: RequestContext, what: string): ChatOrigin & { channelId: string } {
  if (!ctx.chat?.channelId) {
    throw invalid(
      'CHANNEL_REQUIRED',
      `Type "${what}" in the Slack channel or Teams channel that should receive the alerts.`,
    );
  }
  return ctx.chat as ChatOrigin & { channelId: string };
}

/** The organisation named in (un)subscribe, if the actor may decide where its alerts go. */
async function orgForSubscription(tx: Executor, ctx: RequestContext, ods: string) {
  const principal = await loadPrincipal(tx, ctx);
  const org = await getOrg(tx, ods);
  if (!principal.canSubscribe(org)) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      `Only managers, local administrators and site owners of ${org.ods} (and NAS) can choose which channels get its alerts.`,
    );
  }
  return { principal, org };
}

export interface SubscriptionChange {
  org: string;
  orgName: string;
  channelId: string;
  changed: boolean;
}

export async function subscribe(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { org: string },
): Promise<SubscriptionChange> {
  const chat = channelOf(ctx, `subscribe --org ${input.org}`);
  return deps.db.transaction(async (tx) => {
    const { principal, org } = await orgForSubscription(tx, ctx, input.org);
    const [row] = await tx
      .insert(subscriptions)
      .values({
        platform: chat.platform,
        tenant: chat.tenant,
        channelId: chat.channelId,
        org: org.ods,
        subscribedBy: principal.label,
        subscribedAt: ctx.now,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      await audit(tx, ctx, {
        action: 'subscribe',
        org: org.ods,
        reason: `${chat.platform} channel ${chat.channelId}`,
      });
    }
    return { org: org.ods, orgName: org.name, channelId: chat.channelId, changed: row !== undefined };
  });
}

export async function unsubscribe(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { org: string },
): Promise<SubscriptionChange> {
  const chat = channelOf(ctx, `unsubscribe --org ${input.org}`);
  return deps.db.transaction(async (tx) => {
    const { org } = await orgForSubscription(tx, ctx, input.org);
    const removed = await tx
      .delete(subscriptions)
      .where(
        and(
          eq(subscriptions.platform, chat.platform),
          eq(subscriptions.tenant, chat.tenant),
          eq(subscriptions.channelId, chat.channelId),
          eq(subscriptions.org, org.ods),
        ),
      )
      .returning();
    if (removed.length > 0) {
      await audit(tx, ctx, {
        action: 'unsubscribe',
        org: org.ods,
        reason: `${chat.platform} channel ${chat.channelId}`,
      });
    }
    return { org: org.ods, orgName: org.name, channelId: chat.channelId, changed: removed.length > 0 };
  });
}

export interface SubscriptionRow {
  platform: string;
  channelId: string;
  org: string;
  subscribedBy: string;
  subscribedAt: string;
}

/** This channel's subscriptions; or, with an organisation, every channel its alerts go to. */
export async function listSubscriptions(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { org?: string | undefined },
): Promise<SubscriptionRow[]> {
  let where: ReturnType<typeof and>;
  if (input.org) {
    const principal = await loadPrincipal(deps.db, ctx);
    const org = await getOrg(deps.db, input.org);
    if (!principal.canView(org)) {
      throw refused(
        'NOT_YOUR_ORGANISATION',
        `Only managers, local administrators and site owners of ${org.ods} (and NAS) can see where its alerts go.`,
      );
    }
    where = eq(subscriptions.org, org.ods);
  } else {
    const chat = channelOf(ctx, 'subscriptions');
    where = and(
      eq(subscriptions.platform, chat.platform),
      eq(subscriptions.tenant, chat.tenant),
      eq(subscriptions.channelId, chat.channelId),
    );
  }
  const rows = await deps.db
    .select()
    .from(subscriptions)
    .where(where)
    .orderBy(asc(subscriptions.org), asc(subscriptions.channelId));
  return rows.map((r) => ({
    platform: r.platform,
    channelId: r.channelId,
    org: r.org,
    subscribedBy: r.subscribedBy,
    subscribedAt: r.subscribedAt.toISOString(),
  }));
}

/** Records that a platform delivery was handled; false when it already was (a retry). */
export async function firstDelivery(deps: ServiceDeps, key: string, now: Date): Promise<boolean> {
  const rows = await deps.db
    .insert(handledDeliveries)
    .values({ key, handledAt: now })
    .onConflictDoNothing()
    .returning();
  return rows.length > 0;
}

/** A Teams conversation the bot can write to later, with the reference botbuilder needs. */
export interface StoredConversation {
  conversationId: string;
  tenant: string;
  conversationType: string;
  reference: Record<string, unknown>;
  /** A personal chat's holder, once they have spoken to the bot with a verified address. */
  address?: string | null;
}

/** Keeps (or refreshes) a Teams conversation reference, so proactive messages survive a restart. */
export async function rememberConversation(
  deps: ServiceDeps,
  conversation: StoredConversation,
  now: Date,
): Promise<void> {
  await deps.db
    .insert(teamsConversations)
    .values({ ...conversation, updatedAt: now })
    .onConflictDoUpdate({
      target: teamsConversations.conversationId,
      set: {
        reference: conversation.reference,
        tenant: conversation.tenant,
        conversationType: conversation.conversationType,
        // Keep a known holder when an event without one (an install) refreshes the reference.
        address: conversation.address ? conversation.address : sql`${teamsConversations.address}`,
        updatedAt: now,
      },
    });
}

export async function storedConversation(
  deps: ServiceDeps,
  conversationId: string,
): Promise<StoredConversation | null> {
  const [row] = await deps.db
    .select()
    .from(teamsConversations)
    .where(eq(teamsConversations.conversationId, conversationId));
  return row ? toStored(row) : null;
}

/** The personal chat with the holder of `address`, most recently used first. */
export async function personalConversation(
  deps: ServiceDeps,
  address: string,
): Promise<StoredConversation | null> {
  const [row] = await deps.db
    .select()
    .from(teamsConversations)
    .where(and(eq(teamsConversations.address, address), eq(teamsConversations.conversationType, 'personal')))
    .orderBy(desc(teamsConversations.updatedAt))
    .limit(1);
  return row ? toStored(row) : null;
}

const toStored = (row: typeof teamsConversations.$inferSelect): StoredConversation => ({
  conversationId: row.conversationId,
  tenant: row.tenant,
  conversationType: row.conversationType,
  reference: row.reference,
  address: row.address,
});
