import { asc, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { directoryEffects, organisations, outbox, warningsSent } from '../../db/schema.js';
import { inIdList, insertMany } from '../../src/service/bulk-insert.js';
import { enqueue, enqueueEach } from '../../src/service/store.js';
import { describeEachEngine, queryRows } from '../support/engines.js';

/**
 * insertMany writes what drizzle's `insert().values()` writes (issue 17 moved the outbox, audit,
 * effect and warning rows onto it): column types, defaults for fields left out, the order given.
 */
describeEachEngine('insertMany and inIdList', (ctx) => {
  const at = new Date('2026-11-23T09:00:00.000Z');
  const db = () => ctx.db.db;

  it('stores jsonb, enum and timestamp values as given, and column defaults for fields left out', async () => {
    const payload = { address: 'a.b@nhs.net', items: [{ n: 1 }, null, 'text'], quote: `it’s "quoted" \\ ok` };
    await insertMany(db(), outbox, [
      {
        createdAt: at,
        kind: 'warning',
        audience: { type: 'holder', address: 'a.b@nhs.net' },
        payload,
        availableAt: at,
      },
    ]);
    const [row] = await db().select().from(outbox);
    expect(row).toMatchObject({
      createdAt: at,
      kind: 'warning',
      audience: { type: 'holder', address: 'a.b@nhs.net' },
      payload,
      state: 'pending',
      attempts: 0,
      payloadVersion: 1,
      correlationId: null,
    });
  });

  it('inserts in the order given and answers the returning column in that order', async () => {
    await db().insert(organisations).values({ ods: 'RB1', name: 'Trust', kind: 'trust', createdAt: at });
    const [account] = await queryRows<{ id: number }>(
      db(),
      sql`insert into accounts (address, kind, status, home_org, created_at, status_changed_at, mfa_registered)
          values ('a.b@nhs.net', 'person', 'active', 'RB1', ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz, true) returning id`,
    );
    const kinds = ['disable', 'enable', 'delete', 'purge', 'disable', 'restore'] as const;
    const ids = await insertMany(
      db(),
      directoryEffects,
      kinds.map((kind) => ({
        accountId: Number(account?.id),
        kind,
        payload: { kind, address: 'a.b@nhs.net' },
        availableAt: at,
        createdAt: at,
        correlationId: null,
      })),
      { returning: 'id' },
    );
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    const stored = await db().select().from(directoryEffects).orderBy(asc(directoryEffects.id));
    expect(stored.map((r: { id: number }) => r.id)).toEqual(ids);
    expect(stored.map((r: { kind: string }) => r.kind)).toEqual([...kinds]);

    // On conflict, only the rows actually inserted are answered.
    const warning = { accountId: Number(account?.id), clock: 'inactivity' as const, dueAt: at, queuedAt: at };
    const first = await insertMany(db(), warningsSent, [{ ...warning, thresholdDays: 7 }], {
      returning: 'thresholdDays',
      onConflictDoNothing: true,
    });
    const second = await insertMany(
      db(),
      warningsSent,
      [
        { ...warning, thresholdDays: 7 },
        { ...warning, thresholdDays: 3 },
      ],
      { returning: 'thresholdDays', onConflictDoNothing: true },
    );
    expect([first, second]).toEqual([[7], [3]]);
    const selected = await db()
      .select({ id: directoryEffects.id })
      .from(directoryEffects)
      .where(inIdList(directoryEffects.id, [ids[1] ?? 0, ids[3] ?? 0]))
      .orderBy(asc(directoryEffects.id));
    expect(selected.map((r: { id: number }) => r.id)).toEqual([ids[1], ids[3]]);
  });

  it('refuses rows that do not name the same fields, rather than write NULL over a default', async () => {
    await expect(
      insertMany(db(), outbox, [
        {
          createdAt: at,
          kind: 'warning',
          audience: { type: 'org', ods: 'RB1' },
          payload: {},
          availableAt: at,
        },
        {
          createdAt: at,
          kind: 'warning',
          audience: { type: 'org', ods: 'RB1' },
          payload: {},
          availableAt: at,
          state: 'failed',
        },
      ]),
    ).rejects.toThrow(/same fields/);
    // The same number of fields, but not the same ones.
    await expect(
      insertMany(db(), outbox, [
        {
          createdAt: at,
          kind: 'warning',
          audience: { type: 'org', ods: 'RB1' },
          payload: {},
          availableAt: at,
          state: 'failed',
        },
        {
          createdAt: at,
          kind: 'warning',
          audience: { type: 'org', ods: 'RB1' },
          payload: {},
          availableAt: at,
          attempts: 2,
        },
      ]),
    ).rejects.toThrow(/same fields/);
    expect(await db().select().from(outbox)).toEqual([]);
  });
});

describeEachEngine('enqueueEach', (ctx) => {
  const at = new Date('2026-11-23T09:00:00.000Z');
  const accounts = [
    { address: 'a.one@nhs.net', org: 'RB1' },
    { address: 'b.two@nhs.net', org: 'RB2' },
  ];
  const stored = async () =>
    (await ctx.db.db.select().from(outbox).orderBy(asc(outbox.id))).map((r: typeof outbox.$inferSelect) => ({
      kind: r.kind,
      audience: r.audience,
      payload: r.payload,
      payloadVersion: r.payloadVersion,
      createdAt: r.createdAt,
      availableAt: r.availableAt,
      correlationId: r.correlationId,
    }));
  const notice = (account: { address: string; org: string }, reason: string) => [
    {
      kind: 'status-change' as const,
      audience: { type: 'holder' as const, address: account.address },
      payload: {
        address: account.address,
        org: account.org,
        from: 'active' as const,
        to: 'inactive' as const,
        reason,
      },
    },
  ];

  it('writes the rows enqueue writes, each account’s address and organisation filled in, in order', async () => {
    await enqueueEach(ctx.db.db, { now: at, correlationId: 'c-1' }, (a) => notice(a, 'idle'), accounts);
    const filled = await stored();
    await ctx.db.db.delete(outbox);
    await enqueue(
      ctx.db.db,
      { now: at, correlationId: 'c-1' },
      accounts.flatMap((a) => notice(a, 'idle')),
    );
    expect(filled).toEqual(await stored());
    expect(filled.map((r) => r.payload.address)).toEqual(['a.one@nhs.net', 'b.two@nhs.net']);
  });

  it('queues notices that are not alike but for the address and organisation one by one', async () => {
    // The address inside a longer text cannot be filled in from a template.
    await enqueueEach(ctx.db.db, { now: at }, (a) => notice(a, `idle: ${a.address}`), accounts);
    expect((await stored()).map((r) => r.payload.reason)).toEqual([
      'idle: a.one@nhs.net',
      'idle: b.two@nhs.net',
    ]);
  });
});
