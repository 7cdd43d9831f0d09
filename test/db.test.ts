import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog } from '../db/schema.js';
import { describeEachEngine, queryRows, schemaTableNames } from './support/engines.js';

/** Drizzle wraps driver errors ("Failed query: …"); the database's own message is in `cause`. */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join('\n');
}

async function expectRefused(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'the database accepted the statement').toBeInstanceOf(Error);
  expect(messages(error)).toContain('append-only');
}

const entry = {
  at: new Date('2025-01-02T03:04:05Z'),
  actor: 'alice.smith@nhs.net',
  platform: 'cli',
  action: 'account.create',
  address: 'bob.jones@nhs.net',
  org: 'RXX',
  toStatus: 'pending',
  details: { note: 'first' },
} as const;

describeEachEngine('database', (ctx) => {
  it('has every table of the schema once migrated', async () => {
    const expected = [...schemaTableNames].sort();
    const rows = await queryRows<{ table_name: string }>(
      ctx.db.db,
      sql`select table_name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    );
    expect(rows.map((row) => row.table_name)).toEqual(expected);
    expect(expected).toContain('audit_log');
  });

  it('appends to audit_log', async () => {
    const [row] = await ctx.db.db.insert(auditLog).values(entry).returning();
    expect(row).toMatchObject({ id: 1, ...entry });
  });

  it('starts each test empty, with identities restarted and the triggers back on', async () => {
    expect(await ctx.db.db.select().from(auditLog)).toEqual([]);
    const [row] = await ctx.db.db.insert(auditLog).values(entry).returning({ id: auditLog.id });
    expect(row?.id).toBe(1);
    const [setting] = await queryRows<{ role: string }>(
      ctx.db.db,
      sql`select current_setting('session_replication_role') as role`,
    );
    expect(setting?.role).toBe('origin');
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit_log', async () => {
    await ctx.db.db.insert(auditLog).values(entry);

    await expectRefused(ctx.db.db.execute(sql`UPDATE audit_log SET actor = 'mallory@nhs.net'`));
    await expectRefused(ctx.db.db.update(auditLog).set({ reason: 'rewritten' }));
    await expectRefused(ctx.db.db.execute(sql`DELETE FROM audit_log`));
    await expectRefused(ctx.db.db.delete(auditLog));
    await expectRefused(ctx.db.db.execute(sql`TRUNCATE audit_log`));

    const rows = await ctx.db.db.select().from(auditLog);
    expect(rows).toEqual([expect.objectContaining({ id: 1, ...entry, reason: null })]);
  });
});
