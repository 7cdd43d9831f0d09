import { ConfidentialClientApplication, type INetworkModule, LogLevel } from '@azure/msal-node';
import {
  AuthenticationHandler,
  Client,
  type Context,
  GraphError,
  type Middleware,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import type { z } from 'zod';
import type { GraphConfig } from '../../src/config.js';
import { refused } from '../../src/domain/errors.js';
import type { Logger } from '../../src/logger.js';
import { graphRefusal, MAX_RETRIES, tokenRefusal } from './errors.js';
import { PAGE_SIZE, USER_FIELDS, usersPage } from './sign-ins.js';

export type UsersPage = z.infer<typeof usersPage>;
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * How the poller reaches Entra and Graph. Production leaves both unset; tests set both so that a
 * stand-in's self-signed certificate is trusted by this client only, never process-wide.
 */
export interface GraphTransport {
  /** MSAL's HTTP client (OpenID metadata, token endpoint). Default: MSAL's own. */
  msal?: INetworkModule;
  /** What the Graph client's last middleware sends requests with. Default: the global fetch. */
  fetch?: FetchLike;
}

/** Where users come from, a page at a time: Graph in production, anything in a unit test. */
export interface UsersSource {
  /** The first page of users with their sign-in activity, or the page `nextLink` names. */
  usersPage(nextLink?: string): Promise<UsersPage>;
}

/** First delay in seconds when Graph says 429/503/504 without Retry-After (then exponential). */
const RETRY_DELAY_SECONDS = 3;

/** The Graph client's last link: what its default HTTPMessageHandler does, with a chosen fetch. */
class FetchHandler implements Middleware {
  constructor(private readonly send: FetchLike) {}
  async execute(context: Context): Promise<void> {
    context.response = await this.send(context.request, context.options);
  }
}

/**
 * A Graph v1.0 client for `baseUrl` with the app's token and the retry handler, which honours
 * Retry-After on 429, 503 and 504; `send` is what its last link sends with (default: global fetch).
 */
export function graphClient(
  baseUrl: string,
  getAccessToken: () => Promise<string>,
  send?: FetchLike,
): Client {
  return Client.initWithMiddleware({
    baseUrl,
    defaultVersion: 'v1.0',
    // The Graph client attaches the token only to Graph's own hosts and to these.
    customHosts: new Set([new URL(baseUrl).hostname]),
    middleware: [
      new AuthenticationHandler({ getAccessToken }),
      new RetryHandler(new RetryHandlerOptions(RETRY_DELAY_SECONDS, MAX_RETRIES)),
      new RedirectHandler(new RedirectHandlerOptions()),
      new TelemetryHandler(),
      new FetchHandler(send ?? ((input: string | URL | Request, init?: RequestInit) => fetch(input, init))),
    ],
  });
}

/**
 * The Graph client the directory writes with (adapters/directory/entra.ts): the same MSAL client
 * credentials as the poller, its token cached in memory, and the same retry handler.
 */
export function createDirectoryGraphClient(
  config: GraphConfig,
  logger: Logger,
  transport: GraphTransport = {},
): Client {
  const tokens = new GraphUsersClient(config, logger, transport);
  return graphClient(config.baseUrl, () => tokens.token(), transport.fetch);
}

/**
 * Microsoft Graph with the app's own identity: MSAL client credentials (the token is cached in
 * memory until shortly before it expires) and the Graph client's retry handler, which honours
 * Retry-After on 429, 503 and 504.
 */
export class GraphUsersClient implements UsersSource {
  private readonly msal: ConfidentialClientApplication;
  private readonly graph: Client;
  private readonly scope: string;
  private readonly origin: string;

  constructor(
    private readonly config: GraphConfig,
    logger: Logger,
    transport: GraphTransport = {},
  ) {
    const log = logger.child({ component: 'msal' });
    this.origin = config.baseUrl;
    this.scope = `${config.baseUrl}/.default`;
    this.msal = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        authority: `${config.authorityUrl}/${config.tenantId}`,
        // The configured authority is trusted as given, so MSAL asks no global instance-discovery
        // endpoint: the same path serves Microsoft's public cloud, a national cloud or a stand-in.
        knownAuthorities: [new URL(config.authorityUrl).host],
      },
      system: {
        ...(transport.msal ? { networkClient: transport.msal } : {}),
        // MSAL warns "No client info in response" on every app-only token: its warnings are
        // debug here, and its errors reach the run's own refusal anyway. No PII, no tokens.
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) =>
            level === LogLevel.Error ? log.warn(message) : log.debug(message),
        },
      },
    });
    this.graph = graphClient(config.baseUrl, () => this.token(), transport.fetch);
  }

  /** An app-only token for Graph; MSAL answers from its cache while the token is fresh. */
  async token(): Promise<string> {
    let accessToken: string | undefined;
    try {
      accessToken = (await this.msal.acquireTokenByClientCredential({ scopes: [this.scope] }))?.accessToken;
    } catch (e) {
      throw tokenRefusal(e, this.config);
    }
    if (!accessToken) throw tokenRefusal(new Error('the token response held no access token'), this.config);
    return accessToken;
  }

  async usersPage(nextLink?: string): Promise<UsersPage> {
    // The token goes only where GRAPH_BASE_URL says, whatever a response suggests.
    if (nextLink !== undefined && (!URL.canParse(nextLink) || new URL(nextLink).origin !== this.origin)) {
      throw refused(
        'GRAPH_ERROR',
        `Microsoft Graph gave a next page outside GRAPH_BASE_URL (${this.origin}).`,
      );
    }
    // Asked here as well as by the middleware so that a refused token is reported as such, not
    // wrapped by the Graph client into a generic request error.
    await this.token();
    let body: unknown;
    try {
      body = nextLink
        ? await this.graph.api(nextLink).get()
        : await this.graph
            .api('/users')
            .select([...USER_FIELDS])
            .top(PAGE_SIZE)
            .get();
    } catch (e) {
      if (e instanceof GraphError) throw graphRefusal(e);
      throw e;
    }
    const page = usersPage.safeParse(body);
    if (!page.success) {
      throw refused(
        'GRAPH_ERROR',
        `Microsoft Graph answered the users list with something unexpected: ${page.error.issues[0]?.message ?? 'unreadable'}.`,
      );
    }
    return page.data;
  }
}
