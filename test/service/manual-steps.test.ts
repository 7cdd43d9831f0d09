import { expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { describeEachEngine } from '../support/engines.js';
import { as, auditCount, grant, operator, person, refusal, useService } from '../support/service.js';

const site = {
  ods: 'FA123',
  kind: 'pharmacy' as const,
  name: 'High Street Pharmacy',
  dspt: 'standards-met' as const,
  owner: person('Site', 'Owner'),
};

/**
 * Issue 14: Graph cannot make an Exchange shared mailbox. With a directory connected, a site's
 * shared mailbox is recorded as a step for NAS, with what to run, and shown until marked done.
 */
describeEachEngine('a site’s shared mailbox is a manual step for NAS', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  it('is recorded at registration with the command to run, shown by site show, until marked done', async () => {
    const registered = await s.lifecycle.registerSite(operator(), site);
    const address = registered.sharedMailbox.address;
    expect(registered.manualStep).toMatchObject({ kind: 'shared-mailbox', address });
    expect(registered.manualStep?.instructions).toContain(
      `New-Mailbox -Shared -Name "High Street Pharmacy" -DisplayName "High Street Pharmacy" -PrimarySmtpAddress ${address}`,
    );
    const shown = await runText(s.lifecycle, operator(), 'site show FA123');
    expect(shown.text).toContain(`Not made yet: the shared mailbox ${address} is a step for NAS`);
    expect(shown.text).toContain('site mailbox-done FA123');

    const audits = await auditCount(s.db);
    const done = await runText(s.lifecycle, operator(), 'site mailbox-done FA123');
    expect(done.ok).toBe(true);
    expect(done.text).toContain(`shared mailbox ${address} recorded as made`);
    expect(await auditCount(s.db)).toBe(audits + 1);
    expect((await runText(s.lifecycle, operator(), 'site show FA123')).text).not.toContain('Not made yet');
    await refusal(s.lifecycle.markSharedMailboxMade(operator(), { ods: 'FA123' }), 'NO_MANUAL_STEP');
  });

  it('is marked done by NAS or the operator only', async () => {
    await s.lifecycle.registerSite(operator(), site);
    await grant(s.lifecycle, 'nas.admin@nhs.net', 'nas-admin');
    const owner = (await s.lifecycle.showSite(operator(), { ods: 'FA123' })).owners[0] ?? '';
    const audits = await auditCount(s.db);
    await refusal(s.lifecycle.markSharedMailboxMade(as(owner), { ods: 'FA123' }), 'NAS_ONLY');
    expect(await auditCount(s.db)).toBe(audits);
    const done = await s.lifecycle.markSharedMailboxMade(as('nas.admin@nhs.net'), { ods: 'FA123' });
    expect(done.done).toHaveLength(1);
  });
});

describeEachEngine('with no directory, the shared mailbox is recorded as before', (ctx) => {
  const s = useService(ctx);
  it('records no manual step: the bot is a ledger of every change', async () => {
    const registered = await s.lifecycle.registerSite(operator(), site);
    expect(registered.manualStep).toBeNull();
    expect((await s.lifecycle.showSite(operator(), { ods: 'FA123' })).manualSteps).toEqual([]);
  });
});
