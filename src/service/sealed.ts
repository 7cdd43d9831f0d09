import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';

const IV_BYTES = 12;

/**
 * Seals short secrets (an HR starter's mobile number, kept only until their account is made)
 * with AES-256-GCM under a key that is not in the database (HR_DATA_KEY). A sealed value is
 * `v1.IV.TAG.CIPHERTEXT` in base64url; tampering or the wrong key fails to open.
 */
export class Sealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  }

  /** Random bytes for IVs, drawn a page at a time: an import seals tens of thousands of numbers. */
  private readonly ivs = Buffer.alloc(IV_BYTES * 256);
  private used = this.ivs.length;

  seal(plain: string): string {
    if (this.used === this.ivs.length) {
      randomFillSync(this.ivs);
      this.used = 0;
    }
    // Each IV is fresh random bytes, used once.
    const iv = this.ivs.subarray(this.used, this.used + IV_BYTES);
    this.used += IV_BYTES;
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
