/** A percent-encoded part of a link (a `mailto:` address) decoded; as written when it is not valid. */
export function decodeUriPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
