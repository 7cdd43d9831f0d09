import { NotifyClient } from 'notifications-node-client';
import { refused } from '../../src/domain/errors.js';
import type { CredentialDelivery, CredentialRequest, DeliveryReceipt } from '../../src/service/ports.js';

export interface NotifySmsConfig {
  apiKey: string;
  smsTemplateId: string;
  /** GOV.UK Notify's API by default; tests point it at a local stand-in. */
  baseUrl?: string | undefined;
}

interface NotifyFailure {
  response?: { status?: number; data?: { errors?: Array<{ error?: string; message?: string }> } };
}

/**
 * Temporary passwords by SMS through GOV.UK Notify, to the mobile on the HR record. The password
 * exists only in memory on its way to Notify: the template's personalisation carries it, and a
 * failure is reported from Notify's status and message alone (the client's error object holds
 * the request body, so it is never logged or passed on).
 *
 * The SMS template must use ((given)), ((address)), ((organisation)) and ((temporary_password)).
 */
export class NotifySms implements CredentialDelivery {
  private readonly client: NotifyClient;

  constructor(private readonly config: NotifySmsConfig) {
    this.client = config.baseUrl
      ? new NotifyClient(config.baseUrl, config.apiKey)
      : new NotifyClient(config.apiKey);
  }

  async deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    if (!request.mobile) throw new Error('SMS delivery without a mobile number reached the Notify deliverer');
    try {
      await this.client.sendSms(this.config.smsTemplateId, request.mobile.e164, {
        personalisation: {
          given: request.given,
          address: request.address,
          organisation: request.org.name,
          temporary_password: request.temporaryPassword,
        },
        reference: request.address,
      });
    } catch (e) {
      const failure = e as NotifyFailure;
      const status = failure.response?.status ?? 'no response';
      const detail = failure.response?.data?.errors?.[0]?.message ?? 'the service could not be reached';
      throw refused(
        'SMS_NOT_SENT',
        `GOV.UK Notify did not send the SMS to ${request.mobile.masked} (${status}: ${detail}), so no account was created. Try again later, or use --delivery envelope for a Day 1 envelope.`,
      );
    }
    return { route: 'sms', recipient: request.mobile.masked };
  }
}
