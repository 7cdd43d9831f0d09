import { CONTACT_CATEGORIES, type ContactCategory } from '../../domain/contact.js';
import { invalid } from '../../domain/errors.js';
import { quote } from '../../domain/quote.js';
import { defineCommand } from '../command.js';

export const contact = defineCommand({
  name: 'contact',
  usage: `contact [${CONTACT_CATEGORIES.join('|')}]`,
  summary: 'Who to contact about an account like yours (or of the kind named).',
  guests: true,
  options: {},
  positionals: [0, 1],
  parse({ positionals }) {
    const category = positionals[0]?.toLowerCase();
    if (category !== undefined && !(CONTACT_CATEGORIES as readonly string[]).includes(category)) {
      throw invalid(
        'INVALID_CATEGORY',
        `${quote(positionals[0] ?? '')} is not one of: ${CONTACT_CATEGORIES.join(', ')}.`,
      );
    }
    return { name: 'contact', category: category as ContactCategory | undefined };
  },
  run: (l, ctx, c) => l.contact(ctx, { category: c.category }),
  render(r) {
    const lines = [`Who to contact (${r.category}): ${r.who}`, r.route];
    if (r.localAdmins.length > 0) lines.push(`Administrators of ${r.org}: ${r.localAdmins.join(', ')}`);
    return { text: lines.join('\n'), data: r };
  },
});
