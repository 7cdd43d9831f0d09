import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CredentialDelivery, CredentialRequest, DeliveryReceipt } from '../../src/service/ports.js';
import { renderDay1Letter } from './day1-letter.js';

/**
 * The Day 1 envelope: a printable A4 PDF letter with the temporary password, written with
 * owner-only permissions to the envelope directory for the helpdesk to print and seal. The letter
 * is the only place the password is written; print it and delete the file.
 */
export class EnvelopeLetters implements CredentialDelivery {
  constructor(private readonly directory: string) {}

  async deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    const pdf = await renderDay1Letter(request);
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const file = path.join(this.directory, letterFileName(request.address));
    await writeAtomically(file, pdf);
    return { route: 'envelope', recipient: file };
  }
}

/** Names the account, never the secret: `jane.doe-day1-letter.pdf`. */
export const letterFileName = (address: string): string => `${address.replace(/@.*/, '')}-day1-letter.pdf`;

/**
 * A hidden temporary file, flushed to disk, then renamed into place: the letter appears whole or
 * not at all, so nobody prints half of one. The rename replaces a letter left by an attempt whose
 * transaction rolled back (its address was never issued, so its password belongs to no account).
 */
async function writeAtomically(file: string, contents: Buffer): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.part`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
