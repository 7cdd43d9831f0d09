import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  day,
  grant,
  operator,
  person,
  refusal,
  useService,
} from '../support/service.js';

type EffectRow = {
  address: string;
  kind: string;
  payload: Record<string, unknown>;
  state: string;
};

/**
 * Issue 14: each decision's directory effects are queued in the transaction of the change, in
 * order per account, and only when a directory is configured (otherwise the bot is a ledger).
 */
describeEachEngine('directory effects are queued with the change', (ctx) => {
  describe('with a directory configured', () => {
    const s = useService(ctx, {}, { directoryEffects: true });
    const effects = () =>
      queryRows<EffectRow>(
        s.db.db,
        sql`select a.address, e.kind, e.payload, e.state from directory_effects e
            join accounts a on a.id = e.account_id order by e.id`,
      );

    it('queues each transition’s effects, in order, pending', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      await s.lifecycle.leaver(operator(day(1)), { address: jane });
      await s.lifecycle.joiner(operator(day(2)), { address: jane, org: 'RYY' });
      expect(await effects()).toEqual([
        {
          address: jane,
          kind: 'create-user',
          payload: {
            kind: 'create-user',
            address: jane,
            given: 'Jane',
            family: 'Doe',
            org: 'RXX',
            employeeId: null,
            mfaRequired: true,
          },
          state: 'pending',
        },
        {
          address: jane,
          kind: 'mark-leaver',
          payload: { kind: 'mark-leaver', address: jane, org: 'RXX', leaveAt: day(1).toISOString() },
          state: 'pending',
        },
        {
          address: jane,
          kind: 'move-org',
          payload: { kind: 'move-org', address: jane, from: 'RXX', to: 'RYY' },
          state: 'pending',
        },
      ]);
    });

    it('queues the sweep’s lapses: disabled when inactive, deleted, then purged', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const idle = await activeAccount(s.lifecycle, 'RXX', person('Idle', 'User'));
      const sweep = (at: Date) => s.lifecycle.sweep(operator(at, 'schedule'), { dryRun: false });
      await sweep(day(30));
      await sweep(day(60));
      await sweep(day(90));
      await sweep(day(90)); // a repeat queues nothing more
      expect((await effects()).map((e) => [e.address, e.kind])).toEqual([
        [idle, 'create-user'],
        [idle, 'disable'],
        [idle, 'delete'],
        [idle, 'purge'],
      ]);
    });

    it('queues nothing for a refusal: it rolls back with the change', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      await grant(s.lifecycle, 'admin.ryy@nhs.net', 'local-admin', 'RYY');
      await refusal(s.lifecycle.leaver(as('admin.ryy@nhs.net'), { address: jane }), 'NOT_YOUR_ORGANISATION');
      await refusal(s.lifecycle.joiner(operator(), { address: jane, org: 'RYY' }), 'NOT_A_LEAVER');
      expect((await effects()).map((e) => e.kind)).toEqual(['create-user']);
    });
  });

  describe('with no directory (the ledger)', () => {
    const s = useService(ctx);
    it('records decisions only: no effect is queued', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      await s.lifecycle.leaver(operator(day(1)), { address: jane });
      await s.lifecycle.sweep(operator(day(40), 'schedule'), { dryRun: false });
      const [row] = await queryRows<{ n: number }>(
        s.db.db,
        sql`select count(*)::int as n from directory_effects`,
      );
      expect(row?.n).toBe(0);
    });
  });
});
