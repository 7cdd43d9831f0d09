import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEntraReader } from '../../adapters/directory/entra-reader.js';
import { driftRunner, graphSignInJob } from '../../adapters/graph/schedule.js';
import type { DirectoryReader } from '../../src/service/directory-reader.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { describeEachEngine } from '../support/engines.js';
import { addOrg, operator, T0, useService } from '../support/service.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/**
 * The Graph job (GRAPH_SCHEDULE) runs the drift round after its sign-in poll when the directory is
 * configured, its summary in the run's result; a drift failure is logged and the poll's result stands.
 */
describeEachEngine('the Graph job’s drift round', (ctx) => {
  const s = useService(ctx);
  let g: GraphStandIn;
  let reader: DirectoryReader;
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(line) });

  beforeAll(async () => {
    g = await startGraphStandIn({ now: () => T0 });
    reader = createEntraReader({ client: g.client });
  });
  afterAll(async () => {
    await g?.close();
  });
  beforeEach(async () => {
    g.graph.reset();
    logged.length = 0;
    await addOrg(s.lifecycle, 'RXX');
    await s.lifecycle.importDirectory(operator(), { reader, dryRun: false });
    g.graph.seedUsers([
      { userPrincipalName: 'amy.pond@nhs.net', givenName: 'Amy', surname: 'Pond', accountEnabled: true },
    ]);
  });

  const job = (drift: DirectoryReader | undefined) =>
    graphSignInJob(g.config, {
      lifecycle: s.lifecycle,
      logger,
      transport: trustingTransport(g.tls.cert),
      clock: () => T0,
      drift: driftRunner(s.lifecycle, drift),
    });

  it('adds the drift summary to the poll’s result (a full round: the import found an empty mirror)', async () => {
    const result = await job(reader)?.run();
    expect(result).toMatchObject({
      pages: expect.any(Number),
      drift: { round: 'full', total: 1, counts: { 'not-in-bot': 1 }, notified: true },
    });
    expect((await s.lifecycle.driftReport(operator(), {})).lines.map((l) => l.address)).toEqual([
      'amy.pond@nhs.net',
    ]);
  });

  it('keeps the poll’s result when drift fails, and logs why', async () => {
    const broken: DirectoryReader = {
      ...reader,
      // biome-ignore lint/correctness/useYield: fails before its first step, as a refused read does
      async *readUsers() {
        throw new Error('Graph is down');
      },
    };
    const result = await job(broken)?.run();
    expect(result).toMatchObject({ pages: expect.any(Number), drift: { failed: 'Graph is down' } });
    expect(logged.join('\n')).toContain('directory drift round failed');
  });

  it('runs no drift without a directory', async () => {
    const result = (await job(undefined)?.run()) as Record<string, unknown>;
    expect(result).not.toHaveProperty('drift');
  });
});
