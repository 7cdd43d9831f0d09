import { type Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { pino } from 'pino';
import { type FetchLike, GraphUsersClient, graphClient } from '../../../adapters/graph/client.js';
import { type GraphConfig, loadConfig } from '../../../src/config.js';
import { FakeEntra } from '../../graph/support/fake-microsoft.js';
import { createTestCertificate, type TestCertificate } from '../../graph/support/test-certificate.js';
import { trustingTransport } from '../../graph/support/trusting-transport.js';
import { FakeGraphDirectory, type FakeGraphDirectoryOptions } from './fake-graph-directory.js';
import { ALL_PERMISSIONS } from './graph-routes.js';

export const TENANT = '0c3c1e5e-8f0a-4a57-9a4b-6f2d3c1b2a10';
export const CLIENT_ID = '6b1f3c52-2d8e-4f7a-9c41-0e5d7a8b9c20';
const SECRET = 'test-client-secret~Qx8Q~do-not-use-0123456789';

/** Entra and the Graph directory stand-ins on loopback TLS, and a Graph client that trusts them. */
export interface GraphStandIn {
  tls: TestCertificate;
  entra: FakeEntra;
  graph: FakeGraphDirectory;
  config: GraphConfig;
  /** The Graph client built as adapters/graph/client.ts builds it: MSAL token, retry on 429/503. */
  client: Client;
  /** A fetch trusting the stand-ins' certificate, for requests the Graph client would not send. */
  fetch: FetchLike;
  close(): Promise<void>;
}

export async function startGraphStandIn(
  options: Omit<FakeGraphDirectoryOptions, 'entra'> = {},
): Promise<GraphStandIn> {
  const tls = createTestCertificate();
  // The token's roles say what is granted, as the directory stand-in's routes do.
  const entra = new FakeEntra(tls, {
    tenant: TENANT,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    roles: [...(options.granted ?? ALL_PERMISSIONS)],
  });
  const graph = new FakeGraphDirectory(tls, { ...options, entra });
  await entra.start();
  await graph.start();
  const config = loadConfig({
    GRAPH_TENANT_ID: TENANT,
    GRAPH_CLIENT_ID: CLIENT_ID,
    GRAPH_CLIENT_SECRET: SECRET,
    GRAPH_BASE_URL: graph.url,
    GRAPH_AUTHORITY_URL: entra.url,
  }).graph;
  if (!config) throw new Error('the Graph configuration did not load');
  const transport = trustingTransport(tls.cert);
  const send = transport.fetch;
  if (!send) throw new Error('the trusting transport has no fetch');
  const tokens = new GraphUsersClient(config, pino({ level: 'silent' }), transport);
  const client = graphClient(config.baseUrl, () => tokens.token(), send);
  return {
    tls,
    entra,
    graph,
    config,
    client,
    fetch: send,
    close: async () => {
      await graph.close();
      await entra.close();
      tls.remove();
    },
  };
}

/** Per-request middleware options that turn the retry handler off, to see a 429 or 503 as sent. */
export const noRetry = () => [new RetryHandlerOptions(0, 0)];

/** The GraphError a request fails with (fails the test if it succeeds). */
export async function graphErrorOf(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected Microsoft Graph to refuse the request, but it succeeded');
}
