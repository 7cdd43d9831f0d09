import { expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { describeEachEngine } from '../support/engines.js';
import {
  alreadyInDirectory,
  CONFLICT,
  FAILED,
  runWorker,
  ScriptedDirectory,
} from '../support/scripted-directory.js';
import { activeAccount, addOrg, as, day, grant, operator, person, useService } from '../support/service.js';

/** `directory failed` and `directory retry ID|--all` typed on the command line, and in chat. */
describeEachEngine('the directory commands', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  /** Jane's leaver fails for good, Ann's meets a conflict; each holds back a joiner. */
  async function parked(): Promise<{ jane: string; ann: string; janeId: number; annId: number }> {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const directory = new ScriptedDirectory();
    const moved = async (given: string) => {
      const address = await activeAccount(s.lifecycle, 'RXX', person(given, 'Doe'));
      await alreadyInDirectory(s.db, address);
      await s.lifecycle.leaver(operator(day(1)), { address });
      await s.lifecycle.joiner(operator(day(1)), { address, org: 'RYY' });
      return address;
    };
    const jane = await moved('Jane');
    const ann = await moved('Ann');
    directory.script.set(jane, [FAILED]);
    directory.script.set(ann, [CONFLICT]);
    await runWorker(s.db, directory, day(2));
    const listed = await s.lifecycle.failedDirectoryEffects(operator());
    const idOf = (address: string) => listed.find((r) => r.address === address)?.id ?? 0;
    return { jane, ann, janeId: idOf(jane), annId: idOf(ann) };
  }

  it('lists the parked changes with the number to retry them by, and says conflicts are for NAS', async () => {
    const { jane, janeId, annId } = await parked();
    const reply = await runText(s.lifecycle, operator(), 'directory failed');
    expect(reply.exitCode).toBe(0);
    expect(reply.text).toMatch(/^2 directory change\(s\) are parked/);
    expect(reply.text).toMatch(
      new RegExp(
        `^ +${janeId}  ${day(1).toISOString()}  failed   mark-leaver {1,}${jane}  after 1 attempt\\(s\\): Authorization_RequestDenied`,
        'm',
      ),
    );
    expect(reply.text).toMatch(new RegExp(`^ +${annId}  \\S+  conflict mark-leaver`, 'm'));
    expect(reply.text).toContain('"directory retry NUMBER"');
    expect(reply.text).toContain('Conflicts are not retried');
    expect(reply.data).toMatchObject([
      { id: annId, state: 'conflict' },
      { id: janeId, state: 'failed' },
    ]);
  });

  it('retries one by number, and all the failed ones with --all, leaving the conflict', async () => {
    const { janeId } = await parked();
    const one = await runText(s.lifecycle, operator(day(3)), ['directory', 'retry', `#${janeId}`]);
    expect(one.exitCode).toBe(0);
    expect(one.text).toContain(`Requeued directory change ${janeId}`);
    expect(one.data).toMatchObject({ requeued: [{ id: janeId, availableAt: day(3).toISOString() }] });

    const all = await runText(s.lifecycle, operator(day(3)), 'directory retry --all');
    expect(all.exitCode).toBe(0);
    expect(all.text).toBe(
      'No failed directory changes to retry.\n1 conflict(s) left parked: a conflict means the address is held in the directory by an account the bot did not make: retrying would meet it again. If that account is this very person, an operator or NAS adopts it with "directory retry NUMBER --adopt"; otherwise NAS must resolve it there (remove or rename the other object).',
    );
    expect(all.data).toEqual({ requeued: [], conflicts: 1 });
  });

  it('refuses a conflict and an unknown number with their codes, and malformed numbers', async () => {
    const { annId } = await parked();
    const conflict = await runText(s.lifecycle, operator(), `directory retry ${annId}`);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.error?.code).toBe('DIRECTORY_CONFLICT');
    expect(conflict.text).toContain('NAS must resolve it in the directory first');
    const unknown = await runText(s.lifecycle, operator(), 'directory retry 999');
    expect(unknown.error?.code).toBe('DIRECTORY_EFFECT_NOT_FOUND');
    expect(unknown.text).toContain('"directory failed" lists the parked ones');
    const malformed = await runText(s.lifecycle, operator(), 'directory retry RXX');
    expect(malformed).toMatchObject({ exitCode: 2, error: { code: 'INVALID_ID' } });
    expect(await s.lifecycle.failedDirectoryEffects(operator())).toHaveLength(2);
  });

  it('refuses a chat user, and says nothing of parked changes', async () => {
    await parked();
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
    const nas = as('nas@nhs.net', day(3), 'slack');
    for (const typed of ['directory failed', 'directory retry --all', 'directory retry 1']) {
      const reply = await runText(s.lifecycle, nas, typed);
      expect(reply).toMatchObject({ exitCode: 1, error: { code: 'OPERATOR_ONLY' } });
      expect(reply.text).toContain('for operators on the bot’s command line');
    }
    expect(await s.lifecycle.failedDirectoryEffects(operator())).toHaveLength(2);
  });

  it('says so when nothing is parked', async () => {
    expect((await runText(s.lifecycle, operator(), 'directory failed')).text).toBe(
      'No failed directory changes.',
    );
    expect((await runText(s.lifecycle, operator(), 'directory retry --all')).text).toBe(
      'No failed directory changes to retry.',
    );
  });
});
