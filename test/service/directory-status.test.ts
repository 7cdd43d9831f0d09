import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { describeEachEngine } from '../support/engines.js';
import {
  alreadyInDirectory,
  CONFLICT,
  FAILED,
  runWorker,
  ScriptedDirectory,
} from '../support/scripted-directory.js';
import { activeAccount, addOrg, as, day, operator, person, useService } from '../support/service.js';

/**
 * Issue 14: `status` says where the account stands with the directory — not connected (the
 * ledger), in step, waiting, or held back by a parked change and what to do about it — in its
 * text and as `directory` in its JSON.
 */
describeEachEngine('status shows the directory state', (ctx) => {
  describe('with no directory (the ledger)', () => {
    const s = useService(ctx);

    it('says the bot records decisions only, and the change is made in the directory by hand', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      await alreadyInDirectory(s.db, jane);
      await s.lifecycle.leaver(operator(day(1)), { address: jane });
      expect((await s.lifecycle.status(operator(day(2)), { address: jane })).directory).toEqual({
        state: 'ledger',
      });
      const reply = await runText(s.lifecycle, as(jane, day(2), 'slack'), 'status');
      expect(reply.data).toMatchObject({ address: jane, directory: { state: 'ledger' } });
      const lines = reply.text.split('\n').filter((l) => l.startsWith('Directory:'));
      expect(lines).toEqual([
        'Directory: none connected. The bot records decisions only, so each change must be made in the directory by hand.',
      ]);
      // No directory, no directory group to speak of.
      expect(reply.text).not.toContain('has no directory group');
    });
  });

  describe('with a directory', () => {
    const s = useService(ctx, {}, { directoryEffects: true });
    const directoryOf = async (address: string) =>
      (await s.lifecycle.status(operator(day(2)), { address })).directory;
    const statusText = async (address: string) =>
      (await runText(s.lifecycle, operator(day(2)), ['status', address])).text;
    const statusJson = async (address: string) =>
      (await runText(s.lifecycle, operator(day(2)), ['status', address])).data;

    /** Jane leaves RXX and joins RYY: two changes queued for the directory, in that order. */
    async function leaverThenJoiner(): Promise<string> {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      await alreadyInDirectory(s.db, jane);
      await s.lifecycle.leaver(operator(day(1)), { address: jane });
      await s.lifecycle.joiner(operator(day(1)), { address: jane, org: 'RYY' });
      return jane;
    }

    it('is in step when every change has been applied', async () => {
      const jane = await leaverThenJoiner();
      await runWorker(s.db, new ScriptedDirectory(), day(2), 2);
      expect(await directoryOf(jane)).toEqual({ state: 'in-step', group: null });
      expect(await statusText(jane)).toContain('Directory: in step: every change has been applied.');
      expect(await statusJson(jane)).toMatchObject({ directory: { state: 'in-step', group: null } });
    });

    it('is waiting while changes are queued, with the oldest’s time and the worker’s last error', async () => {
      const jane = await leaverThenJoiner();
      const waiting = { state: 'waiting', pending: 2, since: day(1).toISOString(), group: null };
      expect(await directoryOf(jane)).toEqual(waiting);
      expect(await statusText(jane)).toContain(
        `Directory: waiting: 2 change(s) not yet applied, the oldest since ${day(1).toISOString()}.`,
      );

      const directory = new ScriptedDirectory();
      directory.script.set(jane, [{ ok: false, permanent: false, conflict: false, error: 'HTTP 503' }]);
      await runWorker(s.db, directory, day(2));
      expect(await directoryOf(jane)).toEqual({ ...waiting, lastError: 'HTTP 503' });
      expect(await statusText(jane)).toContain('(last attempt: HTTP 503).');
      expect(await statusJson(jane)).toMatchObject({ directory: { ...waiting, lastError: 'HTTP 503' } });
    });

    it('is failed when a change is parked: its error, what it holds back, and how to retry it', async () => {
      const jane = await leaverThenJoiner();
      const directory = new ScriptedDirectory();
      directory.script.set(jane, [FAILED]);
      await runWorker(s.db, directory, day(2), 3);
      const [parked] = await s.lifecycle.failedDirectoryEffects(operator());
      const id = parked?.id ?? 0;
      const failed = {
        state: 'failed',
        lastError: 'Authorization_RequestDenied: insufficient privileges',
        effect: { id, kind: 'mark-leaver' },
        heldBack: 1,
        group: null,
      };
      expect(await directoryOf(jane)).toEqual(failed);
      expect(await statusJson(jane)).toMatchObject({ directory: failed });
      const text = await statusText(jane);
      expect(text).toContain(
        `Directory: failed: change ${id} (mark-leaver) could not be applied: Authorization_RequestDenied: insufficient privileges.`,
      );
      expect(text).toContain('Later changes to this account wait until it is applied (1 waiting)');
      expect(text).toContain(`an operator can retry it with "directory retry ${id}".`);
    });

    it('is conflict when the directory holds the address for an object the bot did not make', async () => {
      const jane = await leaverThenJoiner();
      const directory = new ScriptedDirectory();
      directory.script.set(jane, [CONFLICT]);
      await runWorker(s.db, directory, day(2), 3);
      const [parked] = await s.lifecycle.failedDirectoryEffects(operator());
      const id = parked?.id ?? 0;
      const conflict = {
        state: 'conflict',
        lastError: 'the address belongs to a user the bot did not make',
        effect: { id, kind: 'mark-leaver' },
        heldBack: 1,
        group: null,
      };
      expect(await directoryOf(jane)).toEqual(conflict);
      expect(await statusJson(jane)).toMatchObject({ directory: conflict });
      const text = await statusText(jane);
      expect(text).toContain(
        `Directory: conflict: change ${id} (mark-leaver) was not applied: the address is held in the directory by an account the bot did not make`,
      );
      expect(text).toContain('NAS must resolve it in the directory.');
      expect(text).not.toContain('directory retry');
    });

    it('says when the home organisation has no directory group, and names the group when it has one', async () => {
      const jane = await leaverThenJoiner();
      await runWorker(s.db, new ScriptedDirectory(), day(2), 2);
      const note =
        'RYY has no directory group, so this account is in no group in the directory. NAS or an operator sets one with "org group --ods RYY --group OBJECT_ID"; users the directory already holds are not added to it then.';
      const lines = (await statusText(jane)).split('\n');
      expect(lines.slice(-2)).toEqual(['Directory: in step: every change has been applied.', note]);
      expect(await statusJson(jane)).toMatchObject({ directory: { state: 'in-step', group: null } });

      const group = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
      await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RYY', group });
      expect(await directoryOf(jane)).toEqual({ state: 'in-step', group });
      expect(await statusText(jane)).not.toContain('has no directory group');
      // The account's home is what counts: RXX, which Jane left, has none either.
      expect(await statusText(jane)).not.toContain('RXX');
    });

    it('reports the earliest parked change, and no error when none was recorded', async () => {
      const jane = await leaverThenJoiner();
      // Both parked (as an older build might have left them): the earlier one is what holds the account.
      await s.db.db.execute(sql`update directory_effects set state = 'failed', last_error = null`);
      const [later, earlier] = await s.lifecycle.failedDirectoryEffects(operator());
      expect(await directoryOf(jane)).toEqual({
        state: 'failed',
        lastError: null,
        effect: { id: earlier?.id, kind: 'mark-leaver' },
        heldBack: 0,
        group: null,
      });
      expect(later?.kind).toBe('move-org');
      expect(await statusText(jane)).toContain('could not be applied: no error was recorded.');
    });
  });
});
