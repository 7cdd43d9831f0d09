import { asciiNamePart } from './address.js';

/** What is known of a person at the moment an account is asked for. */
export interface PersonFacts {
  given: string;
  family: string;
  dob?: string | undefined;
  mobileHash?: string | undefined;
  reg?: { body: string; number: string } | undefined;
}

/** An existing account's facts, as stored (purged accounts have none left). */
export interface ExistingPerson {
  address: string;
  given: string | null;
  family: string | null;
  dob: string | null;
  mobileHash: string | null;
  regBody: string | null;
  regNumber: string | null;
}

export type MatchReason = 'registration' | 'dob-and-name' | 'mobile';

export interface DuplicateMatch {
  address: string;
  reasons: MatchReason[];
}

/** Why two records are the same person, strongest evidence first; empty when they are not. */
export function matchReasons(candidate: PersonFacts, existing: ExistingPerson): MatchReason[] {
  const reasons: MatchReason[] = [];
  if (
    candidate.reg &&
    existing.regBody === candidate.reg.body &&
    existing.regNumber === candidate.reg.number
  ) {
    reasons.push('registration');
  }
  if (
    candidate.dob &&
    existing.dob === candidate.dob &&
    existing.given !== null &&
    existing.family !== null &&
    similarNames(candidate, { given: existing.given, family: existing.family })
  ) {
    reasons.push('dob-and-name');
  }
  if (candidate.mobileHash && existing.mobileHash === candidate.mobileHash) reasons.push('mobile');
  return reasons;
}

/**
 * Similar enough to be one person when the birth date also matches: family names close
 * (typos, accents, double-barrelled), and given names close or one a short form of the other
 * (Jon/Jonathan, Kate/Katherine); given and family swapped also counts.
 */
export function similarNames(
  a: { given: string; family: string },
  b: { given: string; family: string },
): boolean {
  return similarAsciiNames(asciiNames(a), asciiNames(b));
}

/** A person's names as similarNames compares them (asciiNamePart of each): worth keeping when compared often. */
export interface AsciiNames {
  given: string;
  family: string;
}

export const asciiNames = (n: { given: string; family: string }): AsciiNames => ({
  given: asciiNamePart(n.given),
  family: asciiNamePart(n.family),
});

/** similarNames of names already passed through asciiNames. */
export function similarAsciiNames(a: AsciiNames, b: AsciiNames): boolean {
  return (
    (sameFamily(a.family, b.family) && sameGiven(a.given, b.given)) ||
    (sameFamily(a.family, b.given) && sameGiven(a.given, b.family))
  );
}

/** Family names close, or sharing a part of a double-barrelled name. */
function sameFamily(x: string, y: string): boolean {
  if (jaroWinkler(x, y) >= 0.88) return true;
  // Neither double-barrelled: the only shared part would be the whole name, already equal above.
  if (!x.includes('-') && !y.includes('-')) return false;
  const yParts = y.split('-');
  return x.split('-').some((part) => part.length > 1 && yParts.includes(part));
}

/** Given names close, or one a short form (at least three letters) of the other. */
function sameGiven(x: string, y: string): boolean {
  return (
    jaroWinkler(x, y) >= 0.85 || (Math.min(x.length, y.length) >= 3 && (x.startsWith(y) || y.startsWith(x)))
  );
}

/** Jaro-Winkler similarity in [0, 1]; 1 is identical. */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const aMatched = new Uint8Array(a.length);
  const bMatched = new Uint8Array(b.length);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(i + window + 1, b.length);
    for (let j = from; j < to; j++) {
      if (!bMatched[j] && a[i] === b[j]) {
        aMatched[i] = 1;
        bMatched[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!aMatched[i]) continue;
    while (!bMatched[k]) k++;
    if (a[i] !== b[k]) transpositions++;
    k++;
  }
  const jaro = (matches / a.length + matches / b.length + (matches - transpositions / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}
