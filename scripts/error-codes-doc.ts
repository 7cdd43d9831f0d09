import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isEntrypoint } from '../adapters/entrypoint.js';
import { HTTP_STATUS } from '../adapters/http-error.js';
import { ERROR_CODE_LIST, ERROR_CODES } from '../src/domain/error-codes.js';

/** Where the catalogue is published; test/domain/error-codes.test.ts fails when it drifts. */
export const ERROR_CODES_DOC = path.resolve(import.meta.dirname, '..', 'docs', 'errors.md');

/** docs/errors.md, from the catalogue (src/domain/error-codes.ts) and the HTTP statuses. */
export function errorCodesDoc(): string {
  const cells = [
    ['code', 'HTTP', 'when it happens'],
    ...[...ERROR_CODE_LIST]
      .sort()
      .map((code) => [`\`${code}\``, String(HTTP_STATUS[code]), ERROR_CODES[code]]),
  ];
  // Padded as Biome formats a Markdown table, so that \`biome check\` passes the generated file.
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head = [], ...body] = cells;
  const rows = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  return `# Error codes

<!-- Generated from src/domain/error-codes.ts by \`npm run docs:errors\`: edit the catalogue, not this file. -->

Every refusal and every piece of malformed input the bot answers carries a stable code: the
command line prints it (\`Refused (NOT_YOUR_ORGANISATION): …\`, or \`{"error": {"code", "message"}}\`
with \`--json\`), Slack and Teams show it beside the message, and the metrics count commands by it.
A code's meaning does not change; new ones are added here.

Every HTTP endpoint of the bot (\`/hr/starters\`, \`/hr/leavers\`, \`/activity\`, \`/slack/events\`,
\`/api/messages\`, and any path it does not serve) answers an error with one shape, the status
below for its code:

\`\`\`json
{ "error": { "code": "INVALID_EVENTS", "message": "each event must be …", "details": { "rows": [1, 2] } } }
\`\`\`

\`details\` is there only for the codes that carry some (\`DUPLICATE_PERSON\`'s \`matches\`,
\`INVALID_EVENTS\`'s \`rows\`…). Health checks are not errors: \`/readyz\`, and a route asked for
while the bot is starting or stopping, answer 503 with \`{"status": …}\` and Retry-After.

${rows.join('\n')}
`;
}

if (isEntrypoint(import.meta.url)) writeFileSync(ERROR_CODES_DOC, errorCodesDoc());
