import type { Client } from '@microsoft/microsoft-graph-client';
import type { Logger } from '../../src/logger.js';
import type { AddressDirectory, Directory, EffectOutcome, EffectToApply } from '../../src/service/ports.js';
import { createEntraAddressDirectory } from './entra-addresses.js';
import { GraphBatcher } from './entra-batch.js';
import { applyEffect, type EffectContext, ENTRA_WRITES } from './entra-effects.js';
import { judge, scrub } from './entra-outcomes.js';

export interface EntraDirectoryOptions {
  /** A Graph client with the app's token and retry handler (adapters/graph/client.ts builds one). */
  client: Client;
  /** Graph's origin, for the absolute references group membership takes. Default graph.microsoft.com. */
  graphOrigin?: string;
  /** How long an address lookup may take (entra-addresses.ts); default 3 s. */
  lookupTimeoutMs?: number;
  /** DIRECTORY_CREDENTIAL: with `tap` a new user costs one more write (the pass), which the pacer counts. */
  credential?: 'password' | 'tap';
  logger?: Logger;
}

/**
 * Microsoft Entra through Graph v1.0 as the bot's directory. Each effect is a few sequential
 * steps (entra-effects.ts); the steps of all the effects of one call travel together in JSON
 * batches (entra-batch.ts), and each is judged on its own answer (entra-outcomes.ts). It also
 * answers which addresses it already holds (entra-addresses.ts), for address allocation.
 */
export function createEntraDirectory(options: EntraDirectoryOptions): Directory & AddressDirectory {
  const graphOrigin = (options.graphOrigin ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  const logger = options.logger?.child({ component: 'entra' });
  const addresses = createEntraAddressDirectory({
    client: options.client,
    ...(options.lookupTimeoutMs === undefined ? {} : { timeoutMs: options.lookupTimeoutMs }),
    ...(logger ? { logger } : {}),
  });
  return {
    name: 'entra',
    heldAddresses: (candidates) => addresses.heldAddresses(candidates),
    writesPerEffect:
      options.credential === 'tap'
        ? { ...ENTRA_WRITES, 'create-user': ENTRA_WRITES['create-user'] + 1 }
        : ENTRA_WRITES,
    async apply(effects: readonly EffectToApply[]): Promise<Map<number, EffectOutcome>> {
      const batcher = new GraphBatcher(options.client, logger);
      const outcomes = await Promise.all(
        effects.map(async (item): Promise<[number, EffectOutcome]> => {
          const secrets: string[] = [];
          if (item.credential?.kind === 'password') secrets.push(item.credential.password);
          const ctx: EffectContext = {
            graphOrigin,
            secret: (value) => {
              secrets.push(value);
            },
            run: async (step, countsAsDone) => judge(await batcher.send(step), step, secrets, countsAsDone),
          };
          try {
            return [item.id, await applyEffect(item, ctx)];
          } catch (e) {
            // A fault of ours, not the directory's: retried, and the worker's log says what it was.
            const error = scrub(e instanceof Error ? e.message : String(e), secrets);
            logger?.error({ effect: item.id, kind: item.effect.kind, error }, 'applying an effect failed');
            return [item.id, { ok: false, permanent: false, conflict: false, error }];
          }
        }),
      );
      const result = new Map(outcomes);
      logger?.debug(
        { effects: effects.length, failed: [...result.values()].filter((o) => !o.ok).length },
        'applied directory effects',
      );
      return result;
    },
  };
}
