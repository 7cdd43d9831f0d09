/**
 * NHSmail addresses are `given.family@nhs.net`: lower-case ASCII, accents removed, spaces and
 * apostrophes dropped, hyphens kept. On collision a number is appended (jane.doe1, jane.doe2…).
 * An address that ever existed is never issued again; the caller supplies that check.
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function asciiNamePart(name: string): string {
  // Printable ASCII (most names): NFKD and the letter replacements change nothing, and the only
  // whitespace is the space, so the general path below reduces to these three steps.
  if (PRINTABLE_ASCII.test(name)) {
    return name
      .toLowerCase()
      .replace(/[^a-z0-9 -]/g, '')
      .replace(/[ -]+/g, '-')
      .replace(/^-|-$/g, '');
  }
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/æ/gi, 'ae')
    .replace(/ø/gi, 'o')
    .replace(/ł/gi, 'l')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

export function addressBase(given: string, family: string): string {
  const g = asciiNamePart(given);
  const f = asciiNamePart(family);
  return [g, f].filter((part) => part.length > 0).join('.');
}

/** The n-th candidate: n = 0 is `given.family@nhs.net`, then `given.family1@nhs.net`, … */
export const addressCandidate = (base: string, n: number): string => `${base}${n === 0 ? '' : n}@nhs.net`;

/** A site's shared mailbox: its kind and ODS code, e.g. `pharmacy.fa123@nhs.net`. */
export const sharedMailboxAddress = (kind: string, ods: string): string =>
  `${kind}.${ods.toLowerCase()}@nhs.net`;
