import { describe, expect, it } from 'vitest';
import { decodeSlackText, messageText, richTextOf } from '../../adapters/slack/decode.js';

/** Slack's markup for typed text ("Formatting text for app surfaces"), each form decoded once. */
describe('decodeSlackText', () => {
  it.each([
    ['status <mailto:jane.doe@nhs.net|jane.doe@nhs.net>', 'status jane.doe@nhs.net'],
    ['status <mailto:jane.doe@nhs.net>', 'status jane.doe@nhs.net'],
    // An e-mail link is its address even when it shows something else (a pasted, formatted link).
    ['status <mailto:jane.doe@nhs.net|Jane Doe>', 'status jane.doe@nhs.net'],
    ['--name "Boots &amp; Co &lt;Market St&gt;"', '--name "Boots & Co <Market St>"'],
    // One pass: an escaped escape stays what was typed.
    ['Boots &amp;amp; Co', 'Boots &amp; Co'],
    ['link <@U0NEWUSER|new.starter> x@nhs.net', 'link <@U0NEWUSER> x@nhs.net'],
    ['link <@W0ENTERPRISE> x@nhs.net', 'link <@W0ENTERPRISE> x@nhs.net'],
    ['--org <#C0HELPDESK|it-helpdesk>', '--org #it-helpdesk'],
    ['--org <#C0PRIVATE|>', '--org #C0PRIVATE'],
    ['--org <#C0PRIVATE>', '--org #C0PRIVATE'],
    ['<!here> status', '@here status'],
    ['<!subteam^S0TEAM|@helpdesk> status', '@helpdesk status'],
    ['<!date^1700000000^{date}|23 Nov 2026>', '23 Nov 2026'],
    ['--name <http://boots.com|boots.com>', '--name boots.com'],
    ['--name <https://example.org>', '--name https://example.org'],
    ['--mobile <tel:07700900123|07700 900123>', '--mobile 07700 900123'],
    ['--mobile <tel:+447700900123>', '--mobile +447700900123'],
    ["<mailto:o%27brien@nhs.net|o'brien@nhs.net>", "o'brien@nhs.net"],
    ['no markup at all', 'no markup at all'],
  ])('%s → %s', (sent, typed) => {
    expect(decodeSlackText(sent)).toBe(typed);
  });
});

describe('rich_text', () => {
  const section = (...elements: Array<Record<string, unknown>>) => [
    { type: 'rich_text', block_id: 'b1', elements: [{ type: 'rich_text_section', elements }] },
  ];

  it('reads text raw, addresses from their mailto link, users as mentions', () => {
    const blocks = section(
      { type: 'text', text: 'link ' },
      { type: 'user', user_id: 'U0NEWUSER' },
      { type: 'text', text: ' ' },
      { type: 'link', url: 'mailto:jane.doe@nhs.net', text: 'jane.doe@nhs.net', unsafe: true },
      { type: 'text', text: ' & <more>', style: { bold: true } },
    );
    expect(richTextOf(blocks)).toBe('link <@U0NEWUSER> jane.doe@nhs.net & <more>');
  });

  it('reads a pasted link without text as its address, and keeps channels, broadcasts and emoji visible', () => {
    const blocks = section(
      { type: 'link', url: 'https://example.org/x' },
      { type: 'text', text: ' ' },
      { type: 'channel', channel_id: 'C0HELPDESK' },
      { type: 'text', text: ' ' },
      { type: 'broadcast', range: 'here' },
      { type: 'emoji', name: 'wave', unicode: '1f44b' },
    );
    expect(richTextOf(blocks)).toBe('https://example.org/x #C0HELPDESK @here:wave:');
  });

  it('reads quotes, preformatted text and list items', () => {
    const blocks = [
      {
        type: 'rich_text',
        elements: [
          { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'status' }] },
          {
            type: 'rich_text_list',
            style: 'bullet',
            elements: [
              { type: 'rich_text_section', elements: [{ type: 'text', text: 'a' }] },
              { type: 'rich_text_section', elements: [{ type: 'text', text: 'b' }] },
            ],
          },
        ],
      },
    ];
    expect(richTextOf(blocks)).toBe('status\na\nb');
  });

  it('prefers rich_text, and falls back to the decoded text when a message has none', () => {
    expect(messageText({ text: 'status &amp;', blocks: section({ type: 'text', text: 'status &' }) })).toBe(
      'status &',
    );
    expect(messageText({ text: 'status <mailto:a.b@nhs.net|a.b@nhs.net>' })).toBe('status a.b@nhs.net');
    expect(
      messageText({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y' } }] }),
    ).toBe('x');
    expect(richTextOf('not blocks')).toBeNull();
  });
});
