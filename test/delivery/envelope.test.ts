import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LETTER_TITLE } from '../../adapters/delivery/day1-letter.js';
import { EnvelopeLetters } from '../../adapters/delivery/envelope.js';
import type { CredentialRequest } from '../../src/service/ports.js';
import { temporaryPassword } from '../../src/service/provisioning.js';
import { pdfText } from '../support/pdf-text.js';

const request = (overrides: Partial<CredentialRequest> = {}): CredentialRequest => ({
  address: 'jane.doe@nhs.net',
  given: 'Jane',
  family: 'Doe',
  org: { ods: 'RXX', name: 'Northtown Hospitals NHS Trust', kind: 'trust' },
  mfaRequired: true,
  route: 'envelope',
  temporaryPassword: temporaryPassword(),
  ...overrides,
});

describe('the Day 1 envelope letter', () => {
  let tmp = '';
  let dir = '';

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-letters-'));
    dir = join(tmp, 'envelopes');
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('is a one-page PDF in ENVELOPE_DIR, owner-only, addressed to the starter and holding the password', async () => {
    const sent = request();
    const receipt = await new EnvelopeLetters(dir).deliver(sent);

    const file = join(dir, 'jane.doe-day1-letter.pdf');
    expect(receipt).toEqual({ route: 'envelope', recipient: file });
    expect(await readdir(dir)).toEqual(['jane.doe-day1-letter.pdf']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    const pdf = await readFile(file);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF\s*$/);
    const letter = pdfText(pdf);
    expect(letter.pages).toBe(1);
    expect(letter.runs).toContain('Jane Doe');
    expect(letter.runs).toContain('Northtown Hospitals NHS Trust (RXX)');
    expect(letter.runs).toContain('jane.doe@nhs.net');
    expect(/Temporary password:\s+(\S+)/.exec(letter.text)?.[1]).toBe(sent.temporaryPassword);
    expect(letter.text).toContain('https://portal.nhs.net');
    expect(letter.text).toContain('choose a new password');
    expect(letter.text).toContain('Register the Microsoft Authenticator app');
    expect(letter.text).toContain('Destroy this letter');
    expect(letter.text).toContain('Keep it sealed');
    expect(letter.text).toContain('Your organisation’s IT helpdesk or Local Administrator (LA).');
    // Each character spelled out in its own box, with what kind of character it is.
    for (const ch of sent.temporaryPassword) expect(letter.runs).toContain(ch);
    expect(letter.runs).toContain('capital');
    expect(letter.runs).toContain('digit');
  });

  it('keeps the password out of the file name and the metadata, which say what the letter is', async () => {
    const sent = request();
    const receipt = await new EnvelopeLetters(dir).deliver(sent);
    expect(receipt.recipient).not.toContain(sent.temporaryPassword);
    const pdf = await readFile(receipt.recipient);
    const { info } = pdfText(pdf);
    expect(info.Title).toBe(LETTER_TITLE);
    expect(info.Subject).toBe('NHSmail account jane.doe@nhs.net');
    for (const value of Object.values(info)) expect(value).not.toContain(sent.temporaryPassword);
    const raw = pdf.toString('latin1');
    // Outside the compressed page content, the password is nowhere in the file.
    expect(raw).not.toContain(sent.temporaryPassword);
  });

  it('says the password has no look-alike characters, or names the ones it has', async () => {
    const generated = pdfText(await readFile((await new EnvelopeLetters(dir).deliver(request())).recipient));
    expect(generated.text).toContain('It has no characters that look alike');

    const other = request({ address: 'sam.lee@nhs.net', temporaryPassword: 'Ab0lXy7#Qr2=Mn8k' });
    const lookalikes = pdfText(await readFile((await new EnvelopeLetters(dir).deliver(other)).recipient));
    expect(lookalikes.text).toContain('Take care with 0 (zero), l (small letter L).');
    expect(lookalikes.text).not.toContain('It has no characters that look alike');
  });

  it('names the right people to ask, and says when MFA is not required', async () => {
    const locum = request({
      address: 'lee.locum@nhs.net',
      org: { ods: 'GPL01', name: 'NAS GP Locums', kind: 'gp-locum' },
      mfaRequired: false,
    });
    const letter = pdfText(await readFile((await new EnvelopeLetters(dir).deliver(locum)).recipient));
    expect(letter.text).toContain('locumadmin@nhs.net');
    expect(letter.text).toContain('not required for your organisation');
    expect(letter.text).not.toContain('Register the Microsoft Authenticator app');
  });

  it('prints names beyond the standard fonts’ alphabet without corrupting the line', async () => {
    const sent = request({ address: 'lukasz.nguyen@nhs.net', given: 'Łukasz', family: 'Nguyễn' });
    const letter = pdfText(await readFile((await new EnvelopeLetters(dir).deliver(sent)).recipient));
    expect(letter.runs).toContain('Lukasz Nguyen');
    expect(/Temporary password:\s+(\S+)/.exec(letter.text)?.[1]).toBe(sent.temporaryPassword);
  });

  it('refuses a password it could not print faithfully, and writes nothing', async () => {
    await expect(
      new EnvelopeLetters(dir).deliver(request({ temporaryPassword: 'Ab3#Łmnpqrstuvwx' })),
    ).rejects.toThrow(/cannot print/);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('leaves no partial file when the write fails', async () => {
    // A directory where the letter should go makes the final rename fail, after the bytes are written.
    await mkdir(join(dir, 'jane.doe-day1-letter.pdf'), { recursive: true });
    await expect(new EnvelopeLetters(dir).deliver(request())).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['jane.doe-day1-letter.pdf']);
    expect((await stat(join(dir, 'jane.doe-day1-letter.pdf'))).isDirectory()).toBe(true);
  });

  it('replaces a letter left behind by an attempt that was rolled back', async () => {
    const letters = new EnvelopeLetters(dir);
    await letters.deliver(request());
    const retry = request();
    const receipt = await letters.deliver(retry);
    expect(await readdir(dir)).toEqual(['jane.doe-day1-letter.pdf']);
    expect((await stat(receipt.recipient)).mode & 0o777).toBe(0o600);
    const letter = pdfText(await readFile(receipt.recipient));
    expect(/Temporary password:\s+(\S+)/.exec(letter.text)?.[1]).toBe(retry.temporaryPassword);
  });
});
