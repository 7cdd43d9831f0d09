/** The longest excerpt of someone's input that a message quotes. */
const EXCERPT = 80;

const ELLIPSIS = '…';

/**
 * Text cut to at most `max` characters, ending with an ellipsis when it was cut, and never in the
 * middle of a surrogate pair (an emoji).
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - ELLIPSIS.length);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}${ELLIPSIS}`;
}

/**
 * Input quoted for a message, a log line or a terminal: at most 80 characters (a 300 MB cell is
 * not echoed back), in double quotes, with control characters written as escapes (`\n`,
 * `\u001b`), so bad input is shown, never replayed as terminal escape sequences or text reversals.
 */
export function quote(input: string): string {
  return JSON.stringify(clip(input, EXCERPT)).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
