import { sql } from 'drizzle-orm';
import type { Database } from '../../db/index.js';
import { DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import { silentLogger } from '../../src/logger.js';
import { type CreatedUser, type NewUsers, PASSWORDS_ONLY } from '../../src/service/new-users.js';
import type { Directory, EffectOutcome, EffectToApply } from '../../src/service/ports.js';

/** A directory that answers as a script says, by address, in turn; ok once the script runs out. */
export class ScriptedDirectory implements Directory {
  readonly name = 'scripted';
  readonly applied: EffectToApply[] = [];
  readonly script = new Map<string, EffectOutcome[]>();

  async apply(effects: readonly EffectToApply[]): Promise<Map<number, EffectOutcome>> {
    const answers = new Map<number, EffectOutcome>();
    for (const item of effects) {
      this.applied.push(item);
      const next = this.script.get(item.effect.address)?.shift();
      answers.set(item.id, next ?? { ok: true, directoryId: `id-${item.effect.address}` });
    }
    return answers;
  }
}

export const FAILED: EffectOutcome = {
  ok: false,
  permanent: true,
  conflict: false,
  error: 'Authorization_RequestDenied: insufficient privileges',
};
export const CONFLICT: EffectOutcome = {
  ok: false,
  permanent: true,
  conflict: true,
  error: 'the address belongs to a user the bot did not make',
};

/** Directory worker passes at `at`, each applying (or parking) one effect per account. */
export async function runWorker(db: Database, directory: Directory, at: Date, passes = 1): Promise<void> {
  for (let i = 0; i < passes; i++) {
    await runDirectoryEffects(db.db, directory, silentLogger(), () => at, {
      ...DEFAULT_DIRECTORY_WORKER,
      retryBudget: 3,
    });
  }
}

/** New users with a password each, handed to `onCreated` as delivery would be, for tests of the worker alone. */
export function capturingNewUsers(onCreated: (created: CreatedUser) => void | Promise<void>): NewUsers {
  return {
    begin: async (db, effects, now) => {
      const pass = await PASSWORDS_ONLY.begin(db, effects, now);
      return {
        ...pass,
        deliver: async (created) => {
          await onCreated(created);
          return null;
        },
      };
    },
    parked: PASSWORDS_ONLY.parked,
  };
}

/**
 * Test set-up: accounts whose users the directory already has, as accounts made before the bot
 * had a directory are: their create-user effects (and the deliveries waiting on them) are gone,
 * and each has a directory id. For tests of the changes that follow.
 */
export async function alreadyInDirectory(db: Database, ...addresses: string[]): Promise<void> {
  for (const address of addresses) {
    const made = sql`select e.id from directory_effects e join accounts a on a.id = e.account_id
                     where a.address = ${address} and e.kind = 'create-user'`;
    await db.db.execute(sql`delete from credential_deliveries where effect_id in (${made})`);
    await db.db.execute(sql`delete from directory_effects where id in (${made})`);
    await db.db.execute(
      sql`update accounts set directory_id = ${`id-${address}`} where address = ${address}`,
    );
  }
}
