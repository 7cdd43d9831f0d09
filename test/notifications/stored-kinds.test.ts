import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notificationMessage, slackParts } from '../../adapters/slack/format/notifications.js';
import { SlackNotifier } from '../../adapters/slack/notifier.js';
import { notificationCard, teamsParts } from '../../adapters/teams/format/cards.js';
import { outbox } from '../../db/schema.js';
import { CHANNEL_KINDS } from '../../src/commands/channel-messages.js';
import { HOLDER_KINDS, holderText } from '../../src/commands/holder-messages.js';
import { decodeNotification, NotificationDecodeError } from '../../src/domain/notification-decoding.js';
import {
  type Audience,
  NOTIFICATION_KINDS,
  type NotificationContent,
  PAYLOAD_VERSIONS,
  unhandledKind,
} from '../../src/domain/notifications.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { DEFAULT_DELIVERY, runDelivery } from '../../src/jobs/delivery.js';
import { createLogger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { failedDeliveries } from '../../src/service/notifications.js';
import type { OutgoingNotification } from '../../src/service/ports.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { checkMessage } from '../support/block-kit.js';
import { createTestDatabase, type TestDatabase } from '../support/engines.js';
import { validateAdaptiveCard } from '../support/schemas.js';
import {
  activeAccount,
  as,
  CapturingDelivery,
  operator,
  outboxRows,
  person,
  T0,
} from '../support/service.js';

/** An outbox row as today's code stores it (captured from the service's own enqueue calls). */
interface StoredRow {
  kind: string;
  audience: Audience;
  payload_version: number;
  payload: Record<string, unknown>;
}

const fixturesDir = path.join(import.meta.dirname, 'fixtures');
/** `<kind>.json`, or `<kind>.<shape>.json` for a kind written in more than one shape. */
const FIXTURES = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({
    name: file.replace(/\.json$/, ''),
    row: JSON.parse(readFileSync(path.join(fixturesDir, file), 'utf8')) as StoredRow,
  }));
const fixture = (name: string): StoredRow => {
  const found = FIXTURES.find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return structuredClone(found.row);
};

const decode = (row: StoredRow) => decodeNotification(row.kind, row.payload_version, row.payload);
const day = (iso: string) => iso.slice(0, 10);

/** What a reader must find in every rendering of a notification: who, which organisation, when. */
function keyFacts(n: NotificationContent): string[] {
  switch (n.kind) {
    case 'leaver':
      return [
        n.payload.address,
        n.payload.org,
        day(n.payload.graceExpiresAt),
        ...(n.payload.gpLocum ? [n.payload.gpLocum.mailbox, n.payload.gpLocum.org] : []),
      ];
    case 'joiner':
      return [n.payload.address, n.payload.from, n.payload.to];
    case 'status-change':
      return [n.payload.address, n.payload.to, n.payload.reason];
    case 'warning':
      return [n.payload.address, day(n.payload.dueAt), `${n.payload.daysLeft} day`];
    case 'reminder':
      return [n.payload.address, ...(n.payload.dueAt ? [day(n.payload.dueAt)] : [])];
    case 'leaver-request':
      return [n.payload.address, n.payload.org];
    case 'disable-request':
      return [
        n.payload.address,
        n.payload.org,
        n.payload.reason,
        n.payload.requestedBy,
        ...(n.payload.until ? [day(n.payload.until)] : []),
      ];
    case 'transfer-leaver':
    case 'transfer-joiner':
      return [n.payload.address, n.payload.from, n.payload.to, n.payload.requestedBy];
    case 'gp-locum-claim':
      return [
        n.payload.address,
        n.payload.from,
        n.payload.to,
        n.payload.markedBy,
        `${n.payload.daysLeft} day`,
        day(n.payload.graceExpiresAt),
        'Accept as joiner',
      ];
    case 'hr-import':
      return n.payload.file === 'starters'
        ? [
            n.payload.org,
            `${n.payload.created} account`,
            `${n.payload.scheduled} scheduled`,
            ...n.payload.duplicates,
          ]
        : [n.payload.org, `${n.payload.marked} marked`, `${n.payload.scheduled} scheduled`];
    case 'digest':
      return [
        n.payload.org,
        ...n.payload.items.flatMap((i) => [i.address, day(i.dueAt), `${i.daysLeft} day`]),
      ];
    case 'pending-digest':
      return [n.payload.org, ...n.payload.items.flatMap((i) => [i.address, `pending ${i.pendingDays} day`])];
    case 'delivery-failed':
      return [n.payload.kind, n.payload.target, `${n.payload.attempts} attempt`, n.payload.error ?? ''];
    case 'account-ready':
      return [n.payload.address, n.payload.org, n.payload.recipient];
    case 'account-not-made':
      return [n.payload.address, n.payload.org, `${n.payload.effect}`, n.payload.error];
    case 'directory-parked':
      return [
        n.payload.kind,
        n.payload.address,
        `directory retry ${n.payload.effect}`,
        `${n.payload.attempts} attempt`,
        n.payload.error ?? '',
      ];
    case 'directory-drift':
      return [
        `${n.payload.total} line`,
        `${n.payload.new} new`,
        `${n.payload.settled} settled`,
        `${n.payload.counts['not-in-bot']} not in the bot`,
        'directory drift',
      ];
    default:
      return unhandledKind(n);
  }
}

/** Every part a platform splits a notification into. */
const partsOf = (n: NotificationContent, parts: (n: NotificationContent & { id: number }) => number) =>
  Array.from({ length: parts({ id: 1, ...n }) }, (_, part): OutgoingNotification => ({ id: 1, ...n, part }));

function expectReadable(rendered: string, facts: readonly string[]): void {
  for (const fact of facts) expect(rendered).toContain(fact);
  expect(rendered).not.toMatch(/undefined|\[object Object\]|\bNaN\b/);
}

const isHolderKind = (kind: string) => (HOLDER_KINDS as readonly string[]).includes(kind);

describe('every kind of notification, read back from the JSON a row holds', () => {
  it('has a stored fixture for every kind, and each kind goes either to holders or to channels', () => {
    expect(new Set(FIXTURES.map((f) => f.row.kind))).toEqual(new Set(NOTIFICATION_KINDS));
    expect(new Set([...CHANNEL_KINDS, ...HOLDER_KINDS])).toEqual(new Set(NOTIFICATION_KINDS));
    expect(CHANNEL_KINDS.filter((k) => isHolderKind(k))).toEqual([]);
  });

  it.each(FIXTURES.map((f) => [f.name, f.row] as const))(
    '%s decodes at the version enqueue writes, for the audience its kind allows',
    (_, row) => {
      const n = decode(row);
      expect(n).toEqual({ kind: row.kind, payload: row.payload });
      expect(row.payload_version).toBe(PAYLOAD_VERSIONS[n.kind]);
      if (isHolderKind(n.kind)) expect(row.audience.type).toBe('holder');
      else expect(row.audience.type).not.toBe('holder');
    },
  );

  describe.each(FIXTURES.map((f) => [f.name, f.row] as const))('%s', (_, row) => {
    const n = decode(row);
    const facts = keyFacts(n);

    if (isHolderKind(n.kind)) {
      // Slack sends it as a DM and Teams in the personal chat, both as holderText.
      it('as the holder’s direct message (Slack and Teams)', () => {
        expectReadable(holderText(n), facts);
      });
      return;
    }

    it('on Slack: Block Kit within its limits, with the facts in the blocks', () => {
      const messages = partsOf(n, slackParts).map(notificationMessage);
      for (const m of messages) expect(checkMessage(m)).toEqual([]);
      expectReadable(messages.map((m) => JSON.stringify(m.blocks)).join('\n'), facts);
      expectReadable(messages.map((m) => m.text).join('\n'), []);
    });

    it('on Teams: a valid Adaptive Card with the facts in it', () => {
      const cards = partsOf(n, teamsParts).map(notificationCard);
      for (const card of cards) expect(validateAdaptiveCard(card.content)).toEqual([]);
      expectReadable(cards.map((c) => JSON.stringify(c.content)).join('\n'), facts);
    });
  });
});

describe('a stored row that does not match its kind fails loudly', () => {
  it('a renamed key: names the row’s kind, version and both keys, and none of the values', () => {
    const row = fixture('leaver');
    const { graceExpiresAt, ...rest } = row.payload;
    row.payload = { ...rest, graceExpiry: graceExpiresAt };
    const error = (() => {
      try {
        decode(row);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(NotificationDecodeError);
    const message = (error as Error).message;
    expect(message).toContain('Stored notification "leaver" (payload version 1) cannot be read');
    expect(message).toContain('payload.graceExpiresAt');
    expect(message).toContain('payload.graceExpiry: unexpected key');
    expect(message).not.toContain(String(row.payload.address));
  });

  it('a missing key, deep in a digest line', () => {
    const row = fixture('digest');
    const items = row.payload.items as Array<Record<string, unknown>>;
    delete items[1]?.dueAt;
    expect(() => decode(row)).toThrow(/"digest" \(payload version 1\).*payload\.items\.1\.dueAt/);
  });

  it('a key of the wrong type', () => {
    const row = fixture('hr-import.starters');
    row.payload.created = '1';
    expect(() => decode(row)).toThrow(/"hr-import" \(payload version 1\).*payload\.created/);
  });

  it('an unknown kind', () => {
    expect(() => decodeNotification('leaver-v2', 1, fixture('leaver').payload)).toThrow(
      'Stored notification "leaver-v2" (payload version 1) cannot be read: unknown kind',
    );
  });

  it('an unknown version', () => {
    expect(() => decodeNotification('leaver', 2, fixture('leaver').payload)).toThrow(
      'Stored notification "leaver" (payload version 2) cannot be read: unknown payload version (this build writes version 1)',
    );
  });
});

describe('the delivery worker and a row it cannot read', () => {
  const slack = new FakeSlack();
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  const logger = createLogger({ level: 'silent' });
  const posted = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.refused);
  const postedTo = (channel: string) => posted().filter((c) => c.body.channel === channel);

  const inChannel = (channelId: string): RequestContext => ({
    ...operator(),
    platform: 'slack',
    chat: { platform: 'slack', tenant: 'T0001', userId: 'U0OP', channelId, parseMention: () => null },
  });

  beforeAll(async () => {
    await slack.start();
    test = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await test.close();
    await slack.stop();
  });
  beforeEach(async () => {
    await test.reset();
    slack.calls.length = 0;
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await lifecycle.subscribe(inChannel('C0X'), { org: 'RXX' });
  });

  /** A row as an older or newer deploy might have left it, written past enqueue on purpose. */
  async function storeRaw(row: StoredRow): Promise<void> {
    await test.database.db.insert(outbox).values({
      createdAt: T0,
      kind: row.kind,
      audience: row.audience,
      payload: row.payload,
      payloadVersion: row.payload_version,
      availableAt: T0,
    });
  }

  it('parks it with the decoding error, tells the operators, and still sends the good rows', async () => {
    const staff = await activeAccount(lifecycle, 'RXX', person('Sid', 'Staff'));
    await lifecycle.leaver(as(staff), { address: staff });
    const written = (await outboxRows(test.database)).filter((r) => r.kind === 'leaver-request');
    expect(written.map((r) => r.payload_version)).toEqual([PAYLOAD_VERSIONS['leaver-request']]);

    const renamed = fixture('leaver-request');
    const { address, ...rest } = renamed.payload;
    renamed.payload = { ...rest, holder: address };
    await storeRaw(renamed);
    await storeRaw({
      ...fixture('transfer-joiner'),
      audience: { type: 'org', ods: 'RXX' },
      payload_version: 9,
    });

    let virtual = T0.getTime();
    for (let pass = 0; pass < 10; pass++) {
      await runDelivery(
        test.database.db,
        [new SlackNotifier('xoxb-test', slack.apiUrl)],
        logger,
        () => new Date(virtual),
        {
          ...DEFAULT_DELIVERY,
          operators: { platform: 'slack', channelId: 'C0OPS' },
        },
      );
      virtual += 60_000;
    }

    // Only the good row reached the organisation's channel, whole.
    const toChannel = postedTo('C0X');
    expect(toChannel).toHaveLength(1);
    expect(String(toChannel[0]?.body.text)).toContain(`Leaver request: ${staff} asks to leave RXX`);
    for (const call of posted()) expect(JSON.stringify(call.body)).not.toContain('undefined');

    const failed = await failedDeliveries(test.database.db);
    expect(failed.map((f) => [f.kind, f.target, f.attempts])).toEqual([
      ['transfer-joiner', 'slack:T0001:C0X', 1],
      ['leaver-request', 'slack:T0001:C0X', 1],
    ]);
    expect(failed[0]?.lastError).toBe(
      'Stored notification "transfer-joiner" (payload version 9) cannot be read: unknown payload version (this build writes version 1)',
    );
    expect(failed[1]?.lastError).toMatch(
      /^Stored notification "leaver-request" \(payload version 1\) cannot be read: .*payload\.address.*holder/,
    );

    const toOperators = postedTo('C0OPS').map((c) => String(c.body.text));
    expect(toOperators).toHaveLength(2);
    expect(toOperators.join('\n')).toContain(
      'parked as failed: leaver-request to slack:T0001:C0X after 1 attempt (Stored notification "leaver-request" (payload version 1) cannot be read',
    );
    expect(toOperators.join('\n')).toContain(
      'parked as failed: transfer-joiner to slack:T0001:C0X after 1 attempt',
    );
  });
});
