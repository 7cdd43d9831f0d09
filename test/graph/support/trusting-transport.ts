import https from 'node:https';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { FetchLike, GraphTransport } from '../../../adapters/graph/client.js';

/**
 * A fetch over node:https that trusts `ca` (the stand-ins' self-signed certificate) and nothing
 * else. Only the poller under test uses it: TLS verification stays on, and the process's own
 * trust store and global fetch are untouched.
 */
export function trustingFetch(ca: string): FetchLike {
  // Kept alive, as the global fetch production uses keeps its connections: not a TLS handshake a request.
  const agent = new https.Agent({ ca, keepAlive: true });
  return (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new Error('the test transport sends string bodies only');
    }
    const body = init.body ?? undefined;
    const headers = Object.fromEntries(new Headers(init.headers));
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined)
              responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, headers: responseHeaders }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** MSAL's network client (system.networkClient) on top of the same trusting fetch. */
export function msalClientOver(send: FetchLike): INetworkModule {
  const request = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const res = await send(url, {
      method,
      headers: options?.headers ?? {},
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
    });
    return { headers: Object.fromEntries(res.headers), body: (await res.json()) as T, status: res.status };
  };
  return {
    sendGetRequestAsync: (url, options) => request('GET', url, options),
    sendPostRequestAsync: (url, options) => request('POST', url, options),
  };
}

/** Everything the poller sends, trusting `ca`. */
export function trustingTransport(ca: string): GraphTransport {
  const send = trustingFetch(ca);
  return { fetch: send, msal: msalClientOver(send) };
}
