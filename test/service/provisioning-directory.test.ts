import { Writable } from 'node:stream';
import type { User } from '@microsoft/microsoft-graph-types';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import type { AddressDirectory } from '../../src/service/ports.js';
import { type GraphStandIn, startGraphStandIn } from '../directory/support/graph-test-client.js';
import { describeEachEngine } from '../support/engines.js';
import { addOrg, operator, person, useService } from '../support/service.js';

const user = (upn: string): User => ({
  accountEnabled: true,
  displayName: upn,
  mailNickname: upn.split('@')[0] ?? 'x',
  userPrincipalName: upn,
  passwordProfile: { password: 'Welcome-2026-Xq!7', forceChangePasswordNextSignIn: true },
});

describeEachEngine('provisioning, with a directory that holds addresses of its own', (ctx) => {
  let g: GraphStandIn;
  let entra: AddressDirectory;
  beforeAll(async () => {
    g = await startGraphStandIn();
    entra = createEntraDirectory({ client: g.client, graphOrigin: g.graph.url });
  });
  afterAll(async () => {
    await g?.close();
  });
  beforeEach(() => {
    g.graph.reset();
    g.graph.setChaos(undefined);
  });
  const s = useService(ctx, {}, { addressDirectory: () => entra });

  const hold = async (...upns: string[]) => {
    for (const upn of upns) await g.client.api('/users').post(user(upn));
    g.graph.requests.length = 0;
  };
  const lookups = () => g.graph.requests.filter((r) => r.method === 'GET' && r.path === '/users');
  const janeDoe = (dob: string) => ({ ...person('Jane', 'Doe', { dob }), org: 'RXX' });

  it('skips the addresses the directory holds, whatever their case: jane.doe and jane.doe1 give jane.doe2', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await hold('Jane.Doe@NHS.net', 'jane.doe1@nhs.net');
    const made = await s.lifecycle.provision(operator(), janeDoe('1990-01-01'));
    expect(made.account.address).toBe('jane.doe2@nhs.net');
    expect(lookups()).toHaveLength(1);

    // The next one skips the bot's own jane.doe2 without asking about it, and the directory's too.
    const next = await s.lifecycle.provision(operator(), janeDoe('1970-06-15'));
    expect(next.account.address).toBe('jane.doe3@nhs.net');
    const asked = new URLSearchParams(lookups()[1]?.query).get('$filter') ?? '';
    expect(asked).not.toContain("'jane.doe2@nhs.net'");
    expect(asked).toContain("'jane.doe@nhs.net'");
  });

  it('asks about the next few when the directory holds every one it was asked about', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await hold(...Array.from({ length: 12 }, (_, n) => `jane.doe${n === 0 ? '' : n}@nhs.net`));
    const made = await s.lifecycle.provision(operator(), janeDoe('1990-01-01'));
    expect(made.account.address).toBe('jane.doe12@nhs.net');
    expect(lookups()).toHaveLength(2);
  });

  it('goes on from its own records, with a warning, when the directory cannot answer', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await hold('jane.doe@nhs.net');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const throttled = await createLifecycle({
      db: s.db.db,
      policy: s.lifecycle.policy,
      delivery: s.delivery,
      logger: pino({ level: 'warn' }, sink),
      addressDirectory: entra,
    });
    g.graph.setChaos({ seed: 7, throttleRate: 1, retryAfterSeconds: 0 });
    const made = await throttled.provision({ ...operator(), correlationId: 'c-429' }, janeDoe('1990-01-01'));
    // Not known to be taken: the directory worker's create would park a conflict, overwriting nothing.
    expect(made.account.address).toBe('jane.doe@nhs.net');
    expect(lookups().map((r) => r.status)).toEqual([429]);
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.correlationId === 'c-429');
    expect(warning).toMatchObject({
      level: 40,
      msg: "the directory could not say which new addresses it holds: allocating from the bot's own records",
    });
    expect(warning.error).toMatch(/throttled .* \(HTTP 429 TooManyRequests/);
  });

  describe('in ledger mode (no directory configured)', () => {
    it('allocates from its own records and asks no directory', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await hold('jane.doe@nhs.net');
      const ledger = await createLifecycle({
        db: s.db.db,
        policy: s.lifecycle.policy,
        delivery: s.delivery,
      });
      const made = await ledger.provision(operator(), janeDoe('1990-01-01'));
      expect(made.account.address).toBe('jane.doe@nhs.net');
      expect(g.graph.requests).toEqual([]);
    });
  });
});
