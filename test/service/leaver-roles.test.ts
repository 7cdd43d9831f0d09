import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { rolesOnLeaving } from '../../src/domain/roles.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { activeAccount, addOrg, as, day, grant, operator, person, useService } from '../support/service.js';

/**
 * Issue 16, point 3: marking a leaver revokes every role the address holds for its home
 * organisation ("Marking a user as a leaver": all admin permissions are revoked), each audited
 * with the leaver's actor and why; roles for other organisations and nas-admin are kept and
 * reported; a joiner restores none.
 */

describe('rolesOnLeaving', () => {
  it('takes the home organisation’s roles and keeps the rest', () => {
    expect(
      rolesOnLeaving(
        [
          { role: 'local-admin', org: 'RXX' },
          { role: 'manager', org: 'RXX' },
          { role: 'site-owner', org: 'RXX' },
          { role: 'manager', org: 'RYY' },
          { role: 'nas-admin', org: null },
        ],
        'RXX',
      ),
    ).toEqual({
      revoke: [
        { role: 'local-admin', org: 'RXX' },
        { role: 'manager', org: 'RXX' },
        { role: 'site-owner', org: 'RXX' },
      ],
      keep: [
        { role: 'manager', org: 'RYY' },
        { role: 'nas-admin', org: null },
      ],
    });
  });
});

describeEachEngine('a leaver’s roles', (ctx) => {
  const s = useService(ctx);
  const rolesOf = (address: string) =>
    queryRows<{ role: string; org: string }>(
      s.db.db,
      sql`select role::text as role, org from roles where address = ${address} order by role, org`,
    );

  async function adminOfRxx(): Promise<string> {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const address = await activeAccount(s.lifecycle, 'RXX', person('Ada', 'Admin'));
    await grant(s.lifecycle, address, 'local-admin', 'RXX');
    await grant(s.lifecycle, address, 'manager', 'RXX');
    await grant(s.lifecycle, address, 'manager', 'RYY');
    await grant(s.lifecycle, address, 'nas-admin');
    return address;
  }

  it('revokes the home organisation’s roles, audited with the leaver’s actor; keeps and reports the others', async () => {
    const ada = await adminOfRxx();
    await grant(s.lifecycle, 'boss@nhs.net', 'local-admin', 'RXX');
    const result = await s.lifecycle.leaver(as('boss@nhs.net', day(1)), { address: ada });
    expect(result).toMatchObject({
      outcome: 'leaver',
      rolesRevoked: [
        { role: 'local-admin', org: 'RXX' },
        { role: 'manager', org: 'RXX' },
      ],
      rolesKept: [
        { role: 'manager', org: 'RYY' },
        { role: 'nas-admin', org: null },
      ],
    });
    expect(await rolesOf(ada)).toEqual([
      { role: 'manager', org: 'RYY' },
      { role: 'nas-admin', org: '' },
    ]);
    const trail = await s.lifecycle.auditTrail(operator(), { address: ada });
    expect(trail.filter((a) => a.action === 'revoke')).toEqual([
      expect.objectContaining({
        actor: 'boss@nhs.net',
        org: 'RXX',
        reason: expect.stringContaining('revoked local-admin of RXX: marked as a leaver'),
      }),
      expect.objectContaining({
        actor: 'boss@nhs.net',
        reason: expect.stringContaining('revoked manager of RXX'),
      }),
    ]);

    // A joiner elsewhere restores none of them.
    await s.lifecycle.joiner(operator(day(2)), { address: ada, org: 'RYY' });
    expect(await rolesOf(ada)).toEqual([
      { role: 'manager', org: 'RYY' },
      { role: 'nas-admin', org: '' },
    ]);
  });

  it('says in the reply what went and what is left to decide', async () => {
    const ada = await adminOfRxx();
    const reply = await runText(s.lifecycle, operator(day(1)), `leaver ${ada}`);
    expect(reply.text).toContain(
      'Revoked, as a leaver keeps no admin rights: local-admin of RXX, manager of RXX.',
    );
    expect(reply.text).toContain('Still held, for you to decide: manager of RYY, nas-admin.');
    expect(reply.data).toMatchObject({ rolesKept: [{ role: 'manager', org: 'RYY' }, { role: 'nas-admin' }] });
  });

  it('an account with no roles leaves as before, saying nothing of roles', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const plain = await activeAccount(s.lifecycle, 'RXX', person('Pat', 'Plain'));
    const reply = await runText(s.lifecycle, operator(day(1)), `leaver ${plain}`);
    expect(reply.ok).toBe(true);
    expect(reply.text).not.toContain('Revoked');
    expect(reply.text).not.toContain('Still held');
  });
});
