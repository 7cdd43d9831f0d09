import type { Activity } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { commandText, decodeTeamsText } from '../../adapters/teams/mentions.js';

const BOT = '28:bot';
const mention = (id: string, words: string | undefined) => ({ id, words });

/** Teams' plain rendering and its HTML copy, decoded to the words typed. */
describe('decodeTeamsText', () => {
  it.each([
    ['status jane.doe@nhs.net', 'status jane.doe@nhs.net'],
    ['<p>status jane.doe@nhs.net</p>', 'status jane.doe@nhs.net'],
    ['<p>--name &quot;Boots &amp; Co&quot;&nbsp;x</p>', '--name "Boots & Co" x'],
    ['--name "Boots & Co"', '--name "Boots & Co"'],
    ['O&#39;Brien &#x27;x&#x27;', "O'Brien 'x'"],
    // In the plain rendering only HTML's tags are markup: a typed <Market St> stays.
    ['--name "Boots <Market St> Pharmacy"', '--name "Boots <Market St> Pharmacy"'],
    ['<p>--name &quot;Boots &lt;Market St&gt; Pharmacy&quot;</p>', '--name "Boots <Market St> Pharmacy"'],
    ['a < b', 'a < b'],
    [
      '<div>\r\n<div itemprop="copy-paste-block">\n\r\n<div style="font-size:14px">joiner <strong>jane.doe@nhs.net</strong> --org RYY</div>\n</div>\n</div>',
      'joiner jane.doe@nhs.net --org RYY',
    ],
    ['<p>status <a href="mailto:jane.doe@nhs.net">Jane Doe</a></p>', 'status jane.doe@nhs.net'],
    ['<p>status<br>jane.doe@nhs.net</p>', 'status jane.doe@nhs.net'],
    [
      '<blockquote itemscope="" itemtype="http://schema.skype.com/Reply" itemid="1"><strong>Sam</strong><p>leaver x@nhs.net</p></blockquote><p>status</p>',
      'status',
    ],
    ['<p>ok <img alt="👍" src="x"></p>', 'ok 👍'],
  ])('%s → %s', (sent, typed) => {
    expect(decodeTeamsText(sent, [], BOT)).toBe(typed);
  });

  it('drops the bot’s mention and turns anyone else’s into one <at:ID> token', () => {
    const mentions = [mention(BOT, 'NHSmail'), mention('29:jo', 'Jo Bloggs')];
    expect(decodeTeamsText('<at>NHSmail</at> link <at>Jo Bloggs</at> j@nhs.net', mentions, BOT)).toBe(
      'link <at:29:jo> j@nhs.net',
    );
  });

  it('joins a display name Teams split into one <at> per word', () => {
    const mentions = [mention(BOT, 'NHSmail'), mention('29:lee', 'Lee'), mention('29:lee', 'Locum')];
    const html =
      '<p><span itemtype="http://schema.skype.com/Mention" itemscope="" itemid="0">NHSmail</span>&nbsp;link <span itemtype="http://schema.skype.com/Mention" itemscope="" itemid="1">Lee</span>&nbsp;<span itemtype="http://schema.skype.com/Mention" itemscope="" itemid="2">Locum</span> j@nhs.net</p>';
    expect(decodeTeamsText(html, mentions, BOT)).toBe('link <at:29:lee> j@nhs.net');
    expect(
      decodeTeamsText('<at>NHSmail</at> link <at>Lee</at> <at>Locum</at> j@nhs.net', mentions, BOT),
    ).toBe('link <at:29:lee> j@nhs.net');
  });

  it('matches mentions whose names carry entities, or whose entity has no text', () => {
    const encoded = [mention(BOT, 'NHSmail'), mention('29:ob', "Siobhán O'Brien & Co")];
    expect(
      decodeTeamsText('<at>NHSmail</at> link <at>Siobhán O&#39;Brien &amp; Co</at> x@nhs.net', encoded, BOT),
    ).toBe('link <at:29:ob> x@nhs.net');
    const missing = [mention(BOT, 'NHSmail'), mention('29:t', undefined)];
    expect(decodeTeamsText('<at>NHSmail</at> link <at>Test ($~&)</at> x@nhs.net', missing, BOT)).toBe(
      'link <at:29:t> x@nhs.net',
    );
  });

  it('leaves an <at> Teams did not report as its words, for the validators', () => {
    expect(decodeTeamsText('link <at>Nobody</at> x@nhs.net', [], BOT)).toBe('link Nobody x@nhs.net');
  });
});

describe('commandText', () => {
  it('reads the text/html attachment where Teams sent one, and the text otherwise', () => {
    const base = { recipient: { id: BOT, name: 'NHSmail' }, entities: [] } as unknown as Activity;
    expect(
      commandText({
        ...base,
        text: 'New starter Jane (Boots & Co)',
        attachments: [{ contentType: 'text/html', content: '<p>status <strong>j@nhs.net</strong></p>' }],
      } as Activity),
    ).toBe('status j@nhs.net');
    expect(commandText({ ...base, text: 'status&nbsp;j@nhs.net' } as Activity)).toBe('status j@nhs.net');
  });
});
