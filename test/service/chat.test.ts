import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import type { ChatOrigin, RequestContext } from '../../src/service/context.js';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  auditCount,
  grant,
  operator,
  person,
  refusal,
  T0,
  useService,
} from '../support/service.js';

const slack = (userId: string, channelId?: string): ChatOrigin => ({
  platform: 'slack',
  tenant: 'T0001',
  userId,
  channelId,
  parseMention: (token) => /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(token)?.[1] ?? null,
});
const UATT = { platform: 'slack' as const, tenant: 'T0001', userId: 'UATT' };
const inChat = (address: string, chat: ChatOrigin): RequestContext => ({
  ...as(address),
  platform: 'slack',
  chat,
});

describeEachEngine('chat identities and channel subscriptions', (ctx) => {
  const s = useService(ctx);

  describe('link', () => {
    it('lets a local administrator vouch for a chat user of their organisation, audited', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      const jo = await activeAccount(s.lifecycle, 'RXX', person('Jo', 'Bloggs'));
      const reply = await runText(
        s.lifecycle,
        inChat('la@nhs.net', slack('UADMIN')),
        `link <@U0JO|jo> ${jo}`,
      );
      expect(reply).toMatchObject({ ok: true, exitCode: 0 });
      expect(await s.lifecycle.linkedAddress({ platform: 'slack', tenant: 'T0001', userId: 'U0JO' })).toBe(
        jo,
      );
      const trail = await s.lifecycle.auditTrail(operator(), { address: jo });
      expect(trail.at(-1)).toMatchObject({ action: 'link', actor: 'la@nhs.net', platform: 'slack' });
    });

    it('refuses other organisations’ accounts, unmanaged addresses (NAS only) and self-links', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      const other = await activeAccount(s.lifecycle, 'RYY', person('Not', 'Mine'));
      const user = { platform: 'slack' as const, tenant: 'T0001', userId: 'U0X' };
      await refusal(s.lifecycle.linkChatUser(as('la@nhs.net'), { user, address: other }), 'LINK_NOT_ALLOWED');
      await refusal(
        s.lifecycle.linkChatUser(as('la@nhs.net'), { user, address: 'visitor@nhs.net' }),
        'LINK_NOT_ALLOWED',
      );
      const byNas = await s.lifecycle.linkChatUser(as('nas@nhs.net'), { user, address: 'visitor@nhs.net' });
      expect(byNas.address).toBe('visitor@nhs.net');
      await refusal(
        s.lifecycle.linkChatUser(inChat('nas@nhs.net', slack('UNAS')), {
          user: { platform: 'slack', tenant: 'T0001', userId: 'UNAS' },
          address: 'nas@nhs.net',
        }),
        'LINK_NOT_SELF',
      );
      expect(
        await s.lifecycle.linkedAddress({ platform: 'slack', tenant: 'T0001', userId: 'UNAS' }),
      ).toBeNull();
    });

    it('refuses to link to an address holding more than the linker (nas-admin, or roles elsewhere)', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
      const nadia = await activeAccount(s.lifecycle, 'RXX', person('Nadia', 'Nas'));
      await grant(s.lifecycle, nadia, 'nas-admin');
      const yAdmin = await activeAccount(s.lifecycle, 'RXX', person('Yan', 'Admin'));
      await grant(s.lifecycle, yAdmin, 'local-admin', 'RYY');
      const colleague = await activeAccount(s.lifecycle, 'RXX', person('Cal', 'League'));
      await grant(s.lifecycle, colleague, 'local-admin', 'RXX');
      const before = await auditCount(s.db);

      // The red team's reproduction: the link is refused, so UATT never acts as nadia.
      const reply = await runText(
        s.lifecycle,
        inChat('la.x@nhs.net', slack('ULAX')),
        `link <@UATT> ${nadia}`,
      );
      expect(reply).toMatchObject({ ok: false, exitCode: 1, error: { code: 'LINK_BEYOND_YOUR_ROLES' } });
      expect(reply.text).toContain('Ask NAS or the operator');
      expect(await s.lifecycle.linkedAddress(UATT)).toBeNull();
      // …and from the CLI, as the same local administrator.
      const cli = await runText(s.lifecycle, as('la.x@nhs.net'), ['link', 'slack:T0001:UATT', yAdmin]);
      expect(cli).toMatchObject({ exitCode: 1, error: { code: 'LINK_BEYOND_YOUR_ROLES' } });
      expect(await s.lifecycle.linkedAddress(UATT)).toBeNull();
      expect(await auditCount(s.db)).toBe(before);

      // A colleague holding the same role as the linker, in the same organisation, may be linked.
      const same = await runText(s.lifecycle, as('la.x@nhs.net'), ['link', 'slack:T0001:UATT', colleague]);
      expect(same).toMatchObject({ ok: true, exitCode: 0 });
      // NAS may link anyone.
      const byNas = await s.lifecycle.linkChatUser(as(nadia), { user: UATT, address: yAdmin });
      expect(byNas).toMatchObject({ address: yAdmin, previous: colleague });
    });

    it('weighs the roles again after a leaver and joiner brings an administrator into the organisation', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
      const nadia = await activeAccount(s.lifecycle, 'RYY', person('Nadia', 'Moved'));
      await grant(s.lifecycle, nadia, 'nas-admin');
      await s.lifecycle.leaver(operator(), { address: nadia });
      await s.lifecycle.joiner(as('la.x@nhs.net'), { address: nadia, org: 'RXX' });
      await refusal(
        s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: UATT, address: nadia }),
        'LINK_BEYOND_YOUR_ROLES',
      );
      expect(await s.lifecycle.linkedAddress(UATT)).toBeNull();
    });

    it('lets a local administrator change only links they could have made', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'la.y@nhs.net', 'local-admin', 'RYY');
      const mine = await activeAccount(s.lifecycle, 'RXX', person('Mia', 'Mine'));
      const alsoMine = await activeAccount(s.lifecycle, 'RXX', person('Al', 'Somine'));
      const theirs = await activeAccount(s.lifecycle, 'RYY', person('Theo', 'Theirs'));
      const other = { platform: 'slack' as const, tenant: 'T0001', userId: 'U0OTHER' };
      await s.lifecycle.linkChatUser(as('la.y@nhs.net'), { user: other, address: theirs });

      const overwrite = await refusal(
        s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: other, address: mine }),
        'LINK_NOT_YOURS',
      );
      expect(overwrite.message).not.toContain(theirs);
      expect(await s.lifecycle.linkedAddress(other)).toBe(theirs);

      // A link into their own organisation they may change, and RYY's administrator may not.
      await s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: UATT, address: mine });
      await refusal(
        s.lifecycle.linkChatUser(as('la.y@nhs.net'), { user: UATT, address: theirs }),
        'LINK_NOT_YOURS',
      );
      const relinked = await s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: UATT, address: alsoMine });
      expect(relinked.previous).toBe(mine);
    });

    it('does not reveal where an account of an organisation the asker cannot see is homed', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'la.x@nhs.net', 'manager', 'RYY');
      await addOrg(s.lifecycle, 'RZZ');
      const inZ = await activeAccount(s.lifecycle, 'RZZ', person('Zed', 'Hidden'));
      const inY = await activeAccount(s.lifecycle, 'RYY', person('Yves', 'Seen'));
      const hidden = await refusal(
        s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: UATT, address: inZ }),
        'LINK_NOT_ALLOWED',
      );
      expect(hidden.message).not.toContain('RZZ');
      expect(hidden.message).toContain('only NAS or the operator');
      // Where they may see the organisation, the refusal names whose administrators can help.
      const seen = await refusal(
        s.lifecycle.linkChatUser(as('la.x@nhs.net'), { user: UATT, address: inY }),
        'LINK_NOT_ALLOWED',
      );
      expect(seen.message).toContain('RYY');
    });

    it('reads canonical chat users on the CLI and refuses words that are not users', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const jo = await activeAccount(s.lifecycle, 'RXX', person('Jo', 'Cli'));
      const ok = await runText(s.lifecycle, operator(), ['link', 'teams:tenant-1:aad-42', jo]);
      expect(ok.ok).toBe(true);
      expect(
        await s.lifecycle.linkedAddress({ platform: 'teams', tenant: 'tenant-1', userId: 'aad-42' }),
      ).toBe(jo);
      const bad = await runText(s.lifecycle, operator(), ['link', 'jo', jo]);
      expect(bad).toMatchObject({ exitCode: 2, error: { code: 'INVALID_CHAT_USER' } });
    });
  });

  describe('subscribe', () => {
    it('records a channel for an organisation’s alerts, for its managers and local admins only', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'mgr@nhs.net', 'manager', 'RXX');
      const channel = slack('UMGR', 'C0ALERTS');
      const first = await s.lifecycle.subscribe(inChat('mgr@nhs.net', channel), { org: 'RXX' });
      expect(first).toMatchObject({ org: 'RXX', channelId: 'C0ALERTS', changed: true });
      expect((await s.lifecycle.subscribe(inChat('mgr@nhs.net', channel), { org: 'RXX' })).changed).toBe(
        false,
      );
      await refusal(
        s.lifecycle.subscribe(inChat('someone@nhs.net', slack('U2', 'C0ALERTS')), { org: 'RXX' }),
        'NOT_YOUR_ORGANISATION',
      );
      const here = await s.lifecycle.subscriptions(inChat('mgr@nhs.net', channel), {});
      expect(here).toEqual([
        {
          platform: 'slack',
          channelId: 'C0ALERTS',
          org: 'RXX',
          subscribedBy: 'mgr@nhs.net',
          subscribedAt: T0.toISOString(),
        },
      ]);
      expect(await s.lifecycle.subscriptions(operator(), { org: 'RXX' })).toHaveLength(1);
      const gone = await s.lifecycle.unsubscribe(inChat('mgr@nhs.net', channel), { org: 'RXX' });
      expect(gone.changed).toBe(true);
      expect(await s.lifecycle.subscriptions(inChat('mgr@nhs.net', channel), {})).toEqual([]);
    });

    it('must be typed in a channel', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await refusal(s.lifecycle.subscribe(operator(), { org: 'RXX' }), 'CHANNEL_REQUIRED');
    });
  });

  it('counts a platform delivery once, and forgets it after a week', async () => {
    expect(await s.lifecycle.firstDelivery('slack:event:Ev01', T0)).toBe(true);
    expect(await s.lifecycle.firstDelivery('slack:event:Ev01', T0)).toBe(false);
    await s.lifecycle.sweep(operator(new Date(T0.getTime() + 6 * 86_400_000)), { dryRun: false });
    expect(await s.lifecycle.firstDelivery('slack:event:Ev01', T0)).toBe(false);
    await s.lifecycle.sweep(operator(new Date(T0.getTime() + 8 * 86_400_000)), { dryRun: false });
    expect(await s.lifecycle.firstDelivery('slack:event:Ev01', T0)).toBe(true);
  });
});
