import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { settings } from '../../db/schema.js';
import { refused } from '../domain/errors.js';
import type { ServiceDeps } from './accounts.js';

/**
 * One reading of the directory into the mirror at a time (issue 15): `directory import` and the
 * Graph job's drift round both write the mirror and the stored deltaLink, and a full round marks
 * what it did not see as gone, so two at once would undo each other. Whoever starts second is
 * refused, saying who holds it and until when. The claim lapses after READING_LEASE_MS, so a
 * process that died mid-read holds no one up for longer.
 */

const READING_SETTING = 'directory-reading';
const READING_LEASE_MS = 30 * 60_000;

interface Reading {
  by: 'directory import' | 'the drift round';
  since: string;
  until: string;
  token: string;
}

/** Runs `read` holding the directory's reading claim; refused while another holds it. */
export async function whileReading<T>(
  deps: Pick<ServiceDeps, 'db'>,
  by: Reading['by'],
  now: Date,
  read: () => Promise<T>,
): Promise<T> {
  const mine: Reading = {
    by,
    since: now.toISOString(),
    until: new Date(now.getTime() + READING_LEASE_MS).toISOString(),
    token: randomUUID(),
  };
  await deps.db.transaction(async (tx) => {
    const [held] = await tx
      .select({ value: settings.value })
      .from(settings)
      .where(eq(settings.key, READING_SETTING))
      .for('update');
    const other = held ? parse(held.value) : null;
    if (other && new Date(other.until) > now) {
      throw refused(
        'DIRECTORY_BUSY',
        `${other.by === 'directory import' ? 'A directory import' : 'The Graph job’s drift round'} has been reading the directory since ${other.since}. Two readings at once would undo each other's picture of it: ${by === 'directory import' ? 'run the import again once it has finished (a drift round takes a minute or two)' : 'the next run of the Graph job reads it instead'}.`,
      );
    }
    const value = JSON.stringify(mine);
    await tx
      .insert(settings)
      .values({ key: READING_SETTING, value })
      .onConflictDoUpdate({ target: settings.key, set: { value } });
  });
  try {
    return await read();
  } finally {
    await deps.db
      .delete(settings)
      .where(and(eq(settings.key, READING_SETTING), eq(settings.value, JSON.stringify(mine))));
  }
}

function parse(value: string): Reading | null {
  try {
    const r = JSON.parse(value) as Partial<Reading>;
    return typeof r.until === 'string' && typeof r.since === 'string' && typeof r.by === 'string'
      ? (r as Reading)
      : null;
  } catch {
    return null;
  }
}
