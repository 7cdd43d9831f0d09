import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import type { DirectoryGroupChange } from '../../src/service/organisations.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { addOrg, as, auditCount, grant, operator, refusal, useService } from '../support/service.js';

const GROUP = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const OTHER = 'fedcba98-7654-4321-8abc-def012345678';

describeEachEngine('org group: an organisation’s directory group', (ctx) => {
  const s = useService(ctx);

  const stored = async (ods: string) =>
    (
      await queryRows<{ directory_group: string | null }>(
        s.db.db,
        sql`select directory_group from organisations where ods = ${ods}`,
      )
    )[0]?.directory_group;
  const groupAudit = () =>
    queryRows<{ actor: string; org: string; reason: string }>(
      s.db.db,
      sql`select actor, org, reason from audit_log where action = 'org-group' order by id`,
    );

  it('lets the operator set it, stores it, audits it and reads it back with the organisation', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const set = await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: GROUP });
    expect(set).toEqual({
      ods: 'RXX',
      name: 'RXX organisation',
      group: GROUP,
      previous: null,
      changed: true,
    } satisfies DirectoryGroupChange);
    expect(await stored('RXX')).toBe(GROUP);
    expect(await groupAudit()).toEqual([
      { actor: 'operator', org: 'RXX', reason: `directory group none → ${GROUP}` },
    ]);
  });

  it('lets a NAS administrator change it, auditing the old group and the new', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
    await s.lifecycle.setDirectoryGroup(as('nas@nhs.net'), { ods: 'RXX', group: GROUP });
    const changed = await s.lifecycle.setDirectoryGroup(as('nas@nhs.net'), { ods: 'RXX', group: OTHER });
    expect(changed).toMatchObject({ group: OTHER, previous: GROUP, changed: true });
    expect(await stored('RXX')).toBe(OTHER);
    expect(await groupAudit()).toEqual([
      { actor: 'nas@nhs.net', org: 'RXX', reason: `directory group none → ${GROUP}` },
      { actor: 'nas@nhs.net', org: 'RXX', reason: `directory group ${GROUP} → ${OTHER}` },
    ]);
  });

  it('changes nothing and writes no audit row when the group is the one it already has', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: GROUP });
    const before = await auditCount(s.db);
    const again = await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: GROUP });
    expect(again).toMatchObject({ group: GROUP, previous: GROUP, changed: false });
    expect(await auditCount(s.db)).toBe(before);
    expect(await groupAudit()).toHaveLength(1);
  });

  it.each([
    ['a local administrator of the organisation', 'local-admin'],
    ['a manager of the organisation', 'manager'],
  ] as const)('refuses %s, naming the rule and whom to ask, and writes nothing', async (_who, role) => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, 'local@nhs.net', role, 'RXX');
    const before = await auditCount(s.db);
    const e = await refusal(
      s.lifecycle.setDirectoryGroup(as('local@nhs.net'), { ods: 'RXX', group: GROUP }),
      'NAS_ONLY',
    );
    expect(e.kind).toBe('refused');
    expect(e.message).toMatch(
      /Only NAS administrators and the operator set an organisation's directory group/,
    );
    expect(e.message).toContain('Ask NAS to run "org group --ods RXX --group OBJECT_ID"');
    expect(await stored('RXX')).toBeNull();
    expect(await auditCount(s.db)).toBe(before);
  });

  it('refuses a chat user with no verified address, writing nothing', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const guest = {
      actor: { kind: 'guest', label: 'slack:T1:U1' },
      platform: 'slack',
      now: new Date(),
    } as const;
    const before = await auditCount(s.db);
    await refusal(s.lifecycle.setDirectoryGroup(guest, { ods: 'RXX', group: GROUP }), 'NAS_ONLY');
    expect(await stored('RXX')).toBeNull();
    expect(await auditCount(s.db)).toBe(before);
  });

  it('refuses a group that is not an object id as invalid, writing nothing', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const before = await auditCount(s.db);
    const e = await refusal(
      s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: 'Northtown staff' }),
      'INVALID_GROUP',
    );
    expect(e.kind).toBe('invalid');
    expect(await stored('RXX')).toBeNull();
    expect(await auditCount(s.db)).toBe(before);
  });

  it('refuses an organisation the bot does not know', async () => {
    const e = await refusal(
      s.lifecycle.setDirectoryGroup(operator(), { ods: 'RZZ', group: GROUP }),
      'ORG_NOT_FOUND',
    );
    expect(e.details).toEqual({ ods: 'RZZ' });
    expect(await groupAudit()).toEqual([]);
  });

  it('runs end to end from typed words: group read in any case, stored lower-case, repeat says "already"', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
    const typed = `org group --ods rxx --group ${GROUP.toUpperCase()}`;
    const reply = await runText(s.lifecycle, as('nas@nhs.net', undefined, 'slack'), typed);
    expect(reply).toMatchObject({ ok: true, exitCode: 0, command: 'org group' });
    expect(reply.text).toBe(`RXX organisation (RXX): directory group none → ${GROUP}.`);
    expect(reply.data).toEqual({
      ods: 'RXX',
      name: 'RXX organisation',
      group: GROUP,
      previous: null,
      changed: true,
    });
    expect(await stored('RXX')).toBe(GROUP);

    const again = await runText(s.lifecycle, operator(), typed);
    expect(again.text).toBe(
      `RXX organisation (RXX) is already in directory group ${GROUP}: nothing was changed.`,
    );
    expect(again.data).toMatchObject({ changed: false });
    expect(await groupAudit()).toHaveLength(1);

    const bad = await runText(s.lifecycle, operator(), 'org group --ods RXX --group not-a-guid');
    expect(bad).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INVALID_GROUP', kind: 'invalid' } });
    const missing = await runText(s.lifecycle, operator(), 'org group --ods RXX');
    expect(missing.error?.code).toBe('MISSING_OPTION');
    expect(missing.text).toContain('Usage: org group --ods ODS --group OBJECT_ID');
    await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
    const local = await runText(s.lifecycle, as('la@nhs.net'), `org group --ods RXX --group ${OTHER}`);
    expect(local).toMatchObject({ ok: false, exitCode: 1, error: { code: 'NAS_ONLY' } });
    expect(await stored('RXX')).toBe(GROUP);
    expect(await groupAudit()).toHaveLength(1);
  });

  it('shows a site’s group in site show, or that it has none', async () => {
    await addOrg(s.lifecycle, 'FA123', 'pharmacy', 'standards-met');
    const none = await runText(s.lifecycle, operator(), 'site show FA123');
    expect(none.text).toContain('Directory group: none (NAS sets it with "org group").');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'FA123', group: GROUP });
    const shown = await runText(s.lifecycle, operator(), 'site show FA123');
    expect(shown.text).toContain(`Directory group: ${GROUP}.`);
    expect(shown.data).toMatchObject({ site: { ods: 'FA123', directoryGroup: GROUP } });
  });
});
