import { pino } from 'pino';
import { expect, it } from 'vitest';
import { applyDirectoryEffects } from '../../adapters/directory/schedule.js';
import { PASSWORDS_ONLY } from '../../src/service/new-users.js';
import { describeEachEngine } from '../support/engines.js';
import { ScriptedDirectory } from '../support/scripted-directory.js';
import { addOrg, operator, person, useService } from '../support/service.js';

/**
 * One fire of DIRECTORY_SCHEDULE works through the queue: the pacer lets a pass take only the
 * writes due in the next few seconds, so the fire takes passes, waiting for write slots, until
 * nothing is due (or its time is up), rather than leaving the rest for the next fire.
 */
describeEachEngine('a fire of the directory schedule', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });
  const logger = pino({ level: 'silent' });

  async function sixteenNewAccounts(): Promise<void> {
    await addOrg(s.lifecycle, 'RXX');
    for (let i = 0; i < 16; i++) {
      await s.lifecycle.provision(operator(), {
        ...person(`Person${String.fromCharCode(65 + i)}`, 'Doe'),
        org: 'RXX',
      });
    }
  }

  it('takes passes until the queue is done, at the configured rate', async () => {
    await sixteenNewAccounts();
    const directory = new ScriptedDirectory();
    // Four writes a second: a pass may reserve about 11 (three seconds ahead), the rest wait.
    const run = await applyDirectoryEffects(s.db.db, directory, logger, PASSWORDS_ONLY, {
      writesPerSecond: 4,
      drainMs: 30_000,
    });
    expect(run).toMatchObject({ applied: 16, failed: 0 });
    expect(directory.applied).toHaveLength(16);
    // Nothing left: the next fire returns at once.
    expect(
      await applyDirectoryEffects(s.db.db, directory, logger, PASSWORDS_ONLY, { writesPerSecond: 4 }),
    ).toEqual({
      applied: 0,
      throttled: 0,
      retried: 0,
      failed: 0,
      conflicts: 0,
    });
  });

  it('leaves what the pacer holds back to the next fire once its time is up', async () => {
    await sixteenNewAccounts();
    const directory = new ScriptedDirectory();
    const run = await applyDirectoryEffects(s.db.db, directory, logger, PASSWORDS_ONLY, {
      writesPerSecond: 4,
      drainMs: 0,
    });
    expect(run.applied).toBeGreaterThan(0);
    expect(run.applied).toBeLessThan(16);
  });
});
