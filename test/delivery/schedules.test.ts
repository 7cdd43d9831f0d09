import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../adapters/slack/notifier.js';
import { type Database, openDatabase } from '../../db/index.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { addDays } from '../../src/domain/time.js';
import { type Scheduler, startScheduler } from '../../src/jobs/scheduler.js';
import type { RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { queryRows } from '../support/engines.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { activeAccount, CapturingDelivery, operator, person } from '../support/service.js';

/** A bot process as far as the schedules go: its own connection, service and scheduler. */
interface Process {
  database: Database;
  lifecycle: Lifecycle;
  scheduler?: Scheduler;
  lines: Array<Record<string, unknown>>;
}

const EVERY_SECOND = '* * * * * *';
const NEVER_SOON = '0 0 1 1 *';

/**
 * The schedules on real PostgreSQL, on the real clock, with two schedulers sharing one database
 * as two bot processes would: the sweep fires every second on both, yet each fire runs once, the
 * 7-, 3- and 1-day warnings go out once each, as one digest per channel and one DM per holder.
 */
describe('schedules on several processes', () => {
  const slack = new FakeSlack();
  let scratch: ScratchDatabase;
  const processes: Process[] = [];

  async function process(): Promise<Process> {
    const database = openDatabase({ engine: 'postgres', url: scratch.url });
    const lifecycle = await createLifecycle({
      db: database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    const p: Process = { database, lifecycle, lines: [] };
    processes.push(p);
    return p;
  }

  function schedule(p: Process, sweep: string, catchUp: boolean): void {
    const logger = pino({ level: 'debug' }, { write: (line: string) => p.lines.push(JSON.parse(line)) });
    p.scheduler = startScheduler({
      db: p.database.db,
      lifecycle: p.lifecycle,
      logger,
      schedules: { sweep, reminders: NEVER_SOON, delivery: EVERY_SECOND },
      timezone: 'Europe/London',
      notifiers: [new SlackNotifier('xoxb-test', slack.apiUrl)],
      catchUp,
    });
  }

  const stopAll = async () => {
    for (const p of processes) {
      await p.scheduler?.stop();
      p.scheduler = undefined;
    }
  };

  beforeAll(async () => {
    await slack.start();
    scratch = await createScratchPostgresDatabase();
  });
  afterAll(async () => {
    await stopAll();
    for (const p of processes) await p.database.close();
    await scratch.drop();
    await slack.stop();
  });

  it('warns at 7, 3 and 1 days exactly once, however many fires and processes run the sweep', async () => {
    const [a, b] = [await process(), await process()];
    const l = a.lifecycle;
    const now = new Date();
    await l.addOrganisation(operator(now), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    const inChannel = (channelId: string): RequestContext => ({
      ...operator(now),
      platform: 'slack',
      chat: { platform: 'slack', tenant: 'T0001', userId: 'U0LA', channelId, parseMention: () => null },
    });
    await l.subscribe(inChannel('C0IT'), { org: 'RXX' });
    await l.subscribe(inChannel('C0MGR'), { org: 'RXX' });
    // Activity windows ending in 7, 3 and 1 days, a leaver's grace ending in 3, and one not yet due.
    const holders = new Map<string, string>();
    for (const [given, idleDays] of [
      ['Seven', 23],
      ['Three', 27],
      ['One', 29],
      ['Fine', 10],
    ] as const) {
      const address = await activeAccount(l, 'RXX', person(given, 'Holder'), addDays(now, -idleDays));
      holders.set(given, address);
      slack.emails.set(`U0${given.toUpperCase()}`, address);
    }
    const leaver = await activeAccount(l, 'RXX', person('Lou', 'Leaving'), addDays(now, -28));
    await l.leaver(operator(addDays(now, -27)), { address: leaver });
    slack.emails.set('U0LOU', leaver);

    schedule(a, EVERY_SECOND, false);
    schedule(b, EVERY_SECOND, false);
    const posts = () => slack.calls.filter((c) => c.method === 'chat.postMessage');
    const dms = () => posts().filter((c) => String(c.body.channel).startsWith('U0'));
    // Two digests (one per channel), four warnings by DM and Lou's leaver notice.
    await slack.waitFor(() => posts().length >= 7, 20_000);
    // Let several more fires pass on both processes: nothing more may be sent.
    const fires = async () =>
      (
        await queryRows<{ n: number }>(
          a.database.db,
          sql`select count(*)::int as n from cron_runs where key like 'daily-sweep:%'`,
        )
      )[0]?.n ?? 0;
    const firesBefore = await fires();
    while ((await fires()) < firesBefore + 3) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    await stopAll();

    const digests = posts().filter((c) => c.body.channel === 'C0IT' || c.body.channel === 'C0MGR');
    expect(digests.map((d) => d.body.channel).sort()).toEqual(['C0IT', 'C0MGR']);
    const text = JSON.stringify(digests[0]?.body.blocks);
    expect(digests[0]?.body.text).toBe('4 accounts in RXX lose access soon');
    for (const given of ['Seven', 'Three', 'One']) expect(text).toContain(holders.get(given));
    expect(text).toContain(leaver);
    expect(text).not.toContain(holders.get('Fine'));
    expect(text).toMatch(/1 day left.*3 days left.*3 days left.*7 days left/);

    // Lou also had the notice sent when marked as a leaver; the warnings are one per holder.
    const warned = dms().filter((d) => /(becomes inactive|grace period ends) on/.test(String(d.body.text)));
    expect(warned.map((d) => d.body.channel).sort()).toEqual(['U0LOU', 'U0ONE', 'U0SEVEN', 'U0THREE']);
    expect(dms()).toHaveLength(5);
    expect(String(dms().find((d) => d.body.channel === 'U0ONE')?.body.text)).toContain(
      'unless you log in or send an email',
    );
    expect(String(warned.find((d) => d.body.channel === 'U0LOU')?.body.text)).toContain(
      'ask the IT team of the organisation you are joining to mark you as a joiner',
    );

    // Every fire ran on exactly one of the two processes.
    const ran = [...a.lines, ...b.lines].filter((line) => line.msg === 'sweep finished').length;
    const skipped = [...a.lines, ...b.lines].filter((line) => line.msg === 'daily-sweep fire skipped').length;
    expect(ran).toBe(await fires());
    expect(ran).toBeGreaterThanOrEqual(4);
    expect(skipped).toBeGreaterThanOrEqual(ran - 1);
    const [warnings] = await queryRows<{ n: number }>(
      a.database.db,
      sql`select count(*)::int as n from warnings_sent`,
    );
    expect(warnings?.n).toBe(4);
  });

  it('catches up a missed sweep once at start, on one process only, and not again within a day', async () => {
    const [a, b] = [await process(), await process()];
    await a.database.db.execute(sql`delete from cron_runs`);
    schedule(a, NEVER_SOON, true);
    schedule(b, NEVER_SOON, true);
    await Promise.all([a.scheduler?.startUp, b.scheduler?.startUp]);
    const caughtUp = [...a.lines, ...b.lines].filter((l) => l.msg === 'caught up a missed sweep at start');
    expect(caughtUp).toHaveLength(1);
    await stopAll();

    const c = await process();
    schedule(c, NEVER_SOON, true);
    await c.scheduler?.startUp;
    expect(c.lines.filter((l) => l.msg === 'caught up a missed sweep at start')).toHaveLength(0);
    await stopAll();
  });
});
