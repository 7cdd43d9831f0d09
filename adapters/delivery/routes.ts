import { refused } from '../../src/domain/errors.js';
import type {
  CredentialDelivery,
  CredentialRequest,
  DeliveryReceipt,
  DeliveryRoute,
} from '../../src/service/ports.js';

/** Sends each request to the deliverer of its route; a route with none is refused, not faked. */
export class RoutedDelivery implements CredentialDelivery {
  constructor(private readonly routes: Partial<Record<DeliveryRoute, CredentialDelivery>>) {}

  check(route: DeliveryRoute): void {
    if (!this.routes[route]) throw unavailable(route);
  }

  deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    const deliverer = this.routes[request.route];
    if (!deliverer) return Promise.reject(unavailable(request.route));
    return deliverer.deliver(request);
  }
}

/** A route with no deliverer on this bot: refused with what to do instead. */
function unavailable(route: DeliveryRoute) {
  return refused(
    'DELIVERY_UNAVAILABLE',
    route === 'sms'
      ? 'SMS delivery of temporary passwords is not set up on this bot (GOV.UK Notify is not configured: NOTIFY_API_KEY). Use --delivery envelope for a Day 1 envelope letter, or ask the operator to configure SMS.'
      : `Delivery by ${route} is not set up on this bot.`,
  );
}
