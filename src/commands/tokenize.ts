import { invalid } from '../domain/errors.js';

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '”': '”' };

/**
 * Splits a typed command into words, shell-style: quotes group words ("St Mary's Pharmacy"),
 * including the curly quotes Slack and Teams substitute when people type.
 */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let closing: string | null = null;
  for (const ch of text.trim()) {
    if (closing !== null) {
      if (ch === closing) closing = null;
      else current += ch;
      continue;
    }
    const close = QUOTES[ch];
    if (close !== undefined && (!inWord || current.length === 0 || ch !== "'")) {
      closing = close;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    current += ch;
    inWord = true;
  }
  if (closing !== null) {
    throw invalid('UNCLOSED_QUOTE', `A quote was opened but not closed: add the closing ${closing}.`);
  }
  if (inWord) words.push(current);
  return words;
}
