import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contextFor, withAbsolutePaths } from '../../adapters/cli/main.js';
import {
  forwardToBot,
  type OperatorHandler,
  serveOperatorChannel,
} from '../../adapters/cli/operator-channel.js';
import { runText } from '../../src/commands/execute.js';
import { parseCommand } from '../../src/commands/grammar.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { createTestDatabase, type TestDatabase } from '../support/engines.js';
import { CapturingDelivery } from '../support/service.js';

/** A reader slower than the bot writes (a pipe into a slow disk): backpressure must hold. */
class SlowReader extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    if (this.chunks.length % 16 === 0) setTimeout(done, 1);
    else done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * The operator channel that carries CLI commands to a bot owning the embedded database: a large
 * export streams through it at the reader's pace, a refusal still comes back as a Reply, and a
 * stream the bot cuts short is an error, never a CSV that looks whole.
 */
describe('operator channel', () => {
  const ROWS = 20_000;
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  let tmp = '';
  let server: http.Server | undefined;

  const serve = async (handler: OperatorHandler): Promise<string> => {
    const socketPath = join(tmp, 'nhsmail.sock');
    server = await serveOperatorChannel(socketPath, handler);
    return socketPath;
  };
  const asTheBot: OperatorHandler = (request, output) =>
    runText(lifecycle, contextFor(request), request.words, { output });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-channel-'));
    test = await createTestDatabase('pglite');
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await test.database.db.execute(sql`
      insert into audit_log (at, actor, platform, action, reason)
      select timestamptz '2026-11-02 00:00:00+00' + n * interval '1 second', 'operator', 'cli', 'note', 'entry ' || n
      from generate_series(1, ${ROWS}) as n`);
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });
  afterAll(async () => {
    await test.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('streams a large export to the CLI, whole and in order', async () => {
    const socketPath = await serve(asTheBot);
    const reader = new SlowReader();
    const reply = await forwardToBot(
      socketPath,
      { words: ['export', 'audit', '--from', '2026-11-02', '--to', '2026-11-02'] },
      reader,
    );
    expect(reply).toMatchObject({ ok: true, exitCode: 0, streamed: true });
    const records = parse(reader.text, { bom: true }) as string[][];
    expect(records).toHaveLength(ROWS + 1);
    expect(records[0]?.[0]).toBe('at');
    expect(records.slice(1).map((r) => r[8])).toEqual(
      Array.from({ length: ROWS }, (_, i) => `entry ${i + 1}`),
    );
  }, 60_000);

  it('answers a refusal as a Reply, with nothing on the output', async () => {
    const socketPath = await serve(asTheBot);
    const reader = new SlowReader();
    const reply = await forwardToBot(
      socketPath,
      { words: ['export', 'audit', '--from', '2026-11-02', '--to', '2026-11-02'], as: 'someone@nhs.net' },
      reader,
    );
    expect(reply).toMatchObject({ ok: false, exitCode: 1, error: { code: 'OPERATOR_ONLY' } });
    expect(reader.chunks).toEqual([]);
  });

  it('fails, rather than passing off half a CSV as whole, when the bot stops mid-stream', async () => {
    const socketPath = await serve(async (_request, output) => {
      await new Promise<void>((resolve) =>
        output.write('at,actor\r\n2026-11-02T00:00:01.000Z,oper', () => resolve()),
      );
      throw new Error('database connection lost');
    });
    const reader = new SlowReader();
    await expect(
      forwardToBot(
        socketPath,
        { words: ['export', 'audit', '--from', '2026-11-02', '--to', '2026-11-02'] },
        reader,
      ),
    ).rejects.toThrow(/incomplete|socket hang up|aborted/);
  });

  it('hands the bot absolute paths, as the CLI would read or write them', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const words = (...w: string[]) => withAbsolutePaths(parseCommand(w, now), w);
    expect(words('import', 'activity', 'report.csv')).toEqual([
      'import',
      'activity',
      join(process.cwd(), 'report.csv'),
    ]);
    expect(words('export', 'audit', '--out', 'q1.csv', '--from', '2026-04-01', '--to', '2026-06-30')).toEqual(
      [
        'export',
        'audit',
        '--out',
        join(process.cwd(), 'q1.csv'),
        '--from',
        '2026-04-01',
        '--to',
        '2026-06-30',
      ],
    );
    expect(words('export', 'audit', '--from=2026-04-01', '--to=2026-06-30', '--out=/tmp/q1.csv')).toEqual([
      'export',
      'audit',
      '--from=2026-04-01',
      '--to=2026-06-30',
      '--out=/tmp/q1.csv',
    ]);
    // A file named like the kind: the word after --kind is the kind, not the file.
    expect(words('import', 'orgs', '--kind', 'trust', 'trust', '--dry-run')).toEqual([
      'import',
      'orgs',
      '--kind',
      'trust',
      join(process.cwd(), 'trust'),
      '--dry-run',
    ]);
    expect(words('status', 'jane.doe@nhs.net')).toEqual(['status', 'jane.doe@nhs.net']);
  });
});
