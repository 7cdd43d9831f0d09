import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Client, GraphError } from '@microsoft/microsoft-graph-client';
import type { Logger } from '../../src/logger.js';

/** JSON batching's limit: at most 20 requests in one POST /$batch (learn.microsoft.com/graph/json-batching). */
export const MAX_BATCH_REQUESTS = 20;

/** One Graph request, its URL relative to the version (e.g. /users/{id}). */
export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

/**
 * What Graph answered one request. `status` 0: no answer at all (unreachable, no token), which is
 * never the request's own fault. Header names are lower-case.
 */
export interface GraphResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: unknown;
}

interface Pending {
  request: GraphRequest;
  answer: (response: GraphResponse) => void;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function lowerCased(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
  } else if (isObject(headers)) {
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/**
 * A request Graph refused (a GraphError) or never answered, as the answer to that request: for
 * every request of a batch refused as a whole, and for a request sent on its own.
 */
export function failedResponse(e: unknown): GraphResponse {
  if (e instanceof GraphError && e.statusCode > 0) {
    return {
      status: e.statusCode,
      headers: lowerCased(e.headers),
      body: { error: { code: e.code ?? '', message: e.message } },
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { status: 0, headers: {}, body: { error: { code: 'unreachable', message } } };
}

/**
 * Sends requests through JSON `$batch`, gathering every request asked for in the same turn of the
 * event loop: effects are written as plain sequential steps, and all the effects' first steps go
 * together, then all their second steps, and so on, at most 20 to a batch and one batch at a time.
 * Graph judges (and throttles) each request of a batch on its own, so each is answered on its own.
 * No dependsOn: a step is only asked for once the step before it has been judged.
 */
export class GraphBatcher {
  private readonly queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly client: Client,
    private readonly logger?: Logger,
  ) {}

  /** Queues one request; resolves with Graph's answer to it, never rejects. */
  send(request: GraphRequest): Promise<GraphResponse> {
    return new Promise((answer) => {
      this.queue.push({ request, answer });
      if (!this.flushing) {
        this.flushing = true;
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let every effect woken by the last answers ask for its next step before sending.
        await nextTurn();
        await this.post(this.queue.splice(0, MAX_BATCH_REQUESTS));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async post(chunk: Pending[]): Promise<void> {
    const requests = chunk.map(({ request }, i) => ({
      id: String(i + 1),
      method: request.method,
      url: request.url,
      ...(request.body === undefined
        ? {}
        : { headers: { 'Content-Type': 'application/json' }, body: request.body }),
    }));
    let answers: Map<string, GraphResponse>;
    try {
      const reply: unknown = await this.client.api('/$batch').post({ requests });
      answers = new Map(
        (isObject(reply) && Array.isArray(reply.responses) ? reply.responses : [])
          .filter(isObject)
          .map((r) => [
            String(r.id),
            { status: Number(r.status), headers: lowerCased(r.headers), body: r.body ?? null },
          ]),
      );
    } catch (e) {
      const failure = failedResponse(e);
      this.logger?.warn({ requests: chunk.length, status: failure.status }, 'Graph refused a whole $batch');
      for (const { answer } of chunk) answer(failure);
      return;
    }
    this.logger?.debug(
      { requests: chunk.length, statuses: [...answers.values()].map((a) => a.status) },
      'Graph answered a $batch',
    );
    chunk.forEach(({ answer }, i) => {
      answer(
        answers.get(String(i + 1)) ?? {
          status: 0,
          headers: {},
          body: { error: { code: 'missingResponse', message: 'the $batch answer left this request out' } },
        },
      );
    });
  }
}
