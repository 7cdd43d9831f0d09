import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { PostgresRunCoordinator } from '../../src/jobs/run-coordinator.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  CapturingDelivery,
  day,
  grant,
  operator,
  person,
} from '../support/service.js';

/** Concurrency is the database's job: these run on a real PostgreSQL server with a connection pool. */
describe('concurrency on PostgreSQL', () => {
  let test: TestDatabase;
  let lifecycle: Lifecycle;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await test.close();
  });
  beforeEach(async () => {
    await test.reset();
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
  });

  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (isDomainError(e) ? e.code : `crash: ${String(e)}`),
    );

  it('30 simultaneous account requests for one site create exactly the free slots', async () => {
    await lifecycle.registerSite(operator(), {
      ods: 'FA123',
      kind: 'pharmacy',
      name: 'Busy Pharmacy',
      dspt: 'standards-met',
      owner: person('Owner', 'One'),
    });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        outcome(
          lifecycle.requestSiteAccount(operator(), {
            ...person(`Staff${String.fromCharCode(97 + (i % 26))}${i}`, 'Member'),
            site: 'FA123',
          }),
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(9);
    expect(results.filter((r) => r === 'SITE_ACCOUNT_LIMIT')).toHaveLength(21);
    const [row] = await queryRows<{ n: number }>(
      test.database.db,
      sql`select count(*)::int as n from accounts where home_org = 'FA123' and kind = 'person'`,
    );
    expect(row?.n).toBe(10);
  });

  it('10 simultaneous joiners of one leaver leave exactly one winner and nine clear refusals', async () => {
    await addOrg(lifecycle, 'RXX');
    const orgs = Array.from({ length: 10 }, (_, i) => `RJ${i}`);
    for (const ods of orgs) {
      await addOrg(lifecycle, ods);
      await grant(lifecycle, `la.${ods.toLowerCase()}@nhs.net`, 'local-admin', ods);
    }
    const address = await activeAccount(lifecycle, 'RXX', person('Popular', 'Locum'));
    await lifecycle.leaver(operator(), { address });
    const results = await Promise.all(
      orgs.map((ods) =>
        lifecycle
          .joiner(
            {
              actor: { kind: 'person', address: `la.${ods.toLowerCase()}@nhs.net` },
              platform: 'slack',
              now: day(1),
            },
            { address, org: ods },
          )
          .then(
            (r) => ({ ods, ok: true as const, org: r.account.org, message: '' }),
            (e: unknown) => ({
              ods,
              ok: false as const,
              org: '',
              message: isDomainError(e) ? `${e.code}: ${e.message}` : String(e),
            }),
          ),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const losers = results.filter((r) => !r.ok);
    expect(losers).toHaveLength(9);
    for (const loser of losers) {
      // The losers administer other organisations: they learn why, not where the account went.
      expect(loser.message).toMatch(/^NOT_A_LEAVER: .* is not a leaver, so it cannot join RJ\d\./);
      expect(loser.message).not.toContain(winners[0]?.org);
    }
    const final = await lifecycle.status(operator(day(1)), { address });
    expect(final.account).toMatchObject({ status: 'active', org: winners[0]?.org });
    const joins = (await lifecycle.auditTrail(operator(), { address })).filter((r) => r.action === 'joiner');
    expect(joins).toHaveLength(1);
  });

  it('two sweeps started at once queue each warning once and change each account once', async () => {
    await addOrg(lifecycle, 'RXX');
    const addresses: string[] = [];
    for (let i = 0; i < 40; i++) {
      addresses.push(
        await activeAccount(
          lifecycle,
          'RXX',
          person(`Idle${String.fromCharCode(97 + (i % 26))}`, `Person${i}`),
        ),
      );
    }
    for (const address of addresses.slice(0, 20)) await lifecycle.leaver(operator(), { address });
    // Leavers: grace ends at day 30 → 3 days left at day 27; the others are idle since day 0 → 3 days left too.
    const [a, b] = await Promise.all([
      lifecycle.sweep(operator(day(27), 'schedule'), { dryRun: false }),
      lifecycle.sweep(operator(day(27), 'schedule'), { dryRun: false }),
    ]);
    expect((a?.counts.warnings ?? 0) + (b?.counts.warnings ?? 0)).toBe(40);
    const [sent] = await queryRows<{ n: number; distinct: number }>(
      test.database.db,
      sql`select count(*)::int as n, count(distinct payload->>'address')::int as distinct from outbox where kind = 'warning' and audience->>'type' = 'holder'`,
    );
    expect(sent).toEqual({ n: 40, distinct: 40 });

    const [c, d] = await Promise.all([
      lifecycle.sweep(operator(day(31), 'schedule'), { dryRun: false }),
      lifecycle.sweep(operator(day(31), 'schedule'), { dryRun: false }),
    ]);
    const changed = (c?.counts['grace-ended'] ?? 0) + (d?.counts['grace-ended'] ?? 0);
    const idled = (c?.counts.inactivity ?? 0) + (d?.counts.inactivity ?? 0);
    expect([changed, idled]).toEqual([20, 20]);
    const [audits] = await queryRows<{ n: number }>(
      test.database.db,
      sql`select count(*)::int as n from audit_log where action in ('grace-ended', 'inactivity')`,
    );
    expect(audits?.n).toBe(40);
  });

  it('two simultaneous provisions of one person create one account', async () => {
    await addOrg(lifecycle, 'RXX');
    await addOrg(lifecycle, 'RYY');
    const reg = { body: 'GMC' as const, number: '7654321' };
    const results = await Promise.all(
      ['RXX', 'RYY'].map((org) =>
        outcome(lifecycle.provision(operator(), { ...person('Dup', 'Licate', { reg }), org })),
      ),
    );
    expect(results.sort()).toEqual(['DUPLICATE_PERSON', 'ok']);
  });

  it('the RunCoordinator lets exactly one of several processes run a scheduled fire', async () => {
    const coordinators = Array.from({ length: 5 }, () => new PostgresRunCoordinator(test.database.db));
    const key = 'daily-sweep:2026-11-24T05:00:00.000Z';
    const elected = await Promise.all(coordinators.map((c) => c.shouldRun(key)));
    expect(elected.filter(Boolean)).toHaveLength(1);
    await coordinators[elected.indexOf(true)]?.onComplete(key);
    const [row] = await queryRows<{ completed: boolean }>(
      test.database.db,
      sql`select completed_at is not null as completed from cron_runs where key = ${key}`,
    );
    expect(row?.completed).toBe(true);
    expect(await coordinators[0]?.shouldRun('daily-sweep:2026-11-25T05:00:00.000Z')).toBe(true);
  });
});
