import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigKeys, ConfigView, SECRETS_VIEW } from '@app/messaging';
import { customHeaderNameProblem, SecretBox, signatureHeaders, type EndpointSecrets } from '@app/webhooks';

/**
 * Signs webhook requests per the Standard Webhooks specification
 * (`webhook-id` is the event id, the same on every attempt) with the
 * endpoint's current secret, and its previous one during its grace window.
 * The secrets come sealed through the secrets bucket; each is opened once
 * per version. The endpoint's custom headers go with the signature, which
 * they cannot replace.
 */
@Injectable()
export class WebhookSigner {
  private readonly logger = new Logger(WebhookSigner.name);
  private readonly opened = new Map<string, { sealed: string; secrets: EndpointSecrets }>();

  constructor(
    @Inject(SECRETS_VIEW) private readonly secretsView: ConfigView,
    private readonly box: SecretBox,
  ) {}

  /** The request's headers, signed at `atMs`; null while the endpoint's signing material has not reached this replica. */
  headers(endpointId: string, eventId: string, body: Uint8Array, atMs: number): Record<string, string> | null {
    const secrets = this.secretsOf(endpointId);
    if (!secrets) return null;
    const { current, previous, previousExpiresAt, customHeaders } = secrets;
    const previousValid = previous && previousExpiresAt && Date.parse(previousExpiresAt) > atMs;
    // A header the api would refuse today (saved before it did) is left out, never sent. The signature headers come
    // last: custom headers cannot replace them.
    const allowed = Object.entries(customHeaders).filter(([name]) => customHeaderNameProblem(name) === null);
    return { ...Object.fromEntries(allowed), ...signatureHeaders(previousValid ? [current, previous] : [current], eventId, Math.floor(atMs / 1_000), body) };
  }

  private secretsOf(endpointId: string): EndpointSecrets | null {
    const sealed = this.secretsView.sealedSecrets(endpointId);
    if (!sealed) return null;
    let cached = this.opened.get(endpointId);
    if (cached?.sealed !== sealed) {
      try {
        cached = { sealed, secrets: this.box.open<EndpointSecrets>(sealed, ConfigKeys.secrets(endpointId)) };
      } catch (error) {
        // Sealed with a key this replica does not hold: the delivery waits rather than going out unsigned.
        this.logger.error(`endpoint ${endpointId}: cannot open its signing secrets (${(error as Error).message}); does SECRET_KEYS list the api's keys?`);
        return null;
      }
      this.opened.set(endpointId, cached);
    }
    return cached.secrets;
  }
}
