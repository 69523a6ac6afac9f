import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { DELIVERY_ATTEMPTS, RESEND_DELIVERY, ROTATE_WEBHOOK_SECRET, SEND_TEST_EVENT, WEBHOOK_SECRET } from '../operations.js';
import type { WebhookSecret } from '../schema.generated.js';
import { ConfirmButton, formatDate, FormError, PAGE_SIZE, Pager, useQuery, useRefresh } from '../ui.js';

/** The signing secret, shown only when asked, and its rotation (the old one keeps signing for a day). */
export function SecretPanel({ endpointId }: { endpointId: string }) {
  const [secret, setSecret] = useState<WebhookSecret | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (load: () => Promise<WebhookSecret>) => {
    try {
      setSecret(await load());
      setError(null);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <section class="panel" aria-labelledby="secret-title">
      <h3 id="secret-title">Signing secret</h3>
      {secret ? (
        <>
          <p>
            <code class="secret wrap">{secret.secret}</code>
          </p>
          {secret.previousSecret && <p class="hint">The previous secret also signs until {formatDate(secret.previousSecretExpiresAt!)}.</p>}
          <div class="actions">
            <button type="button" onClick={() => setSecret(null)}>
              Hide secret
            </button>
          </div>
        </>
      ) : (
        <div class="actions">
          <button type="button" onClick={() => run(async () => (await request(WEBHOOK_SECRET, { endpointId })).webhookSecret)}>
            Reveal secret
          </button>
        </div>
      )}
      <div class="actions">
        <ConfirmButton
          label="Rotate secret"
          confirmLabel="Rotate"
          question="Make a new secret? Deliveries carry both signatures for 24 hours."
          onConfirm={() => run(async () => (await request(ROTATE_WEBHOOK_SECRET, { endpointId })).rotateWebhookSecret)}
        />
      </div>
      <FormError error={error} />
    </section>
  );
}

const OUTCOME_LABELS = { SUCCEEDED: 'succeeded', RETRYING: 'retrying', FAILED: 'failed' } as const;

/** The endpoint's recent delivery attempts, refreshed while the card is open, with resend for failed ones and a test event. */
export function AttemptsPanel({ endpointId, admin }: { endpointId: string; admin: boolean }) {
  const [offset, setOffset] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const attempts = useQuery(
    () => request(DELIVERY_ATTEMPTS, { filters: { endpointId: { exact: endpointId } }, order: { attemptedAt: 'DESC' }, pagination: { limit: PAGE_SIZE, offset } }),
    [endpointId, offset],
  );
  useRefresh(attempts.reload);
  const act = async (action: () => Promise<string>) => {
    try {
      setNotice(await action());
      setError(null);
      attempts.reload();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };

  return (
    <section class="panel" aria-labelledby="attempts-title">
      <div class="page-head">
        <h3 id="attempts-title">Delivery attempts</h3>
        {admin && (
          <button type="button" onClick={() => act(async () => `Test event ${(await request(SEND_TEST_EVENT, { endpointId })).sendTestEvent} sent.`)}>
            Send test event
          </button>
        )}
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <FormError error={error ?? attempts.error} />
      {attempts.data && attempts.data.deliveryAttempts.totalCount === 0 && <p class="hint">No attempt yet.</p>}
      {attempts.data && attempts.data.deliveryAttempts.totalCount > 0 && (
        <table class="list attempts">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status</th>
              <th scope="col">Latency</th>
              <th scope="col">Answer</th>
              {admin && <th scope="col">Resend</th>}
            </tr>
          </thead>
          <tbody>
            {attempts.data.deliveryAttempts.collectionItems.map((attempt) => (
              <tr key={attempt.id} data-event-id={attempt.eventId}>
                <td data-label="When">{formatDate(attempt.attemptedAt)}</td>
                <td data-label="Event">
                  <code class="wrap">{attempt.eventId}</code>
                </td>
                <td data-label="Attempt">{attempt.attempt}</td>
                <td data-label="Outcome">
                  <span class={`badge ${attempt.outcome.toLowerCase()}`}>{OUTCOME_LABELS[attempt.outcome]}</span>
                </td>
                <td data-label="Status">{attempt.statusCode ?? '—'}</td>
                <td data-label="Latency">{attempt.durationMs} ms</td>
                <td data-label="Answer" class="wrap answer">
                  {[attempt.error, attempt.responseBody].filter(Boolean).join(' · ') || null}
                </td>
                {admin && (
                  <td data-label="Resend">
                    {attempt.outcome === 'FAILED' && (
                      <button type="button" aria-label={`Resend event ${attempt.eventId}`} onClick={() => act(async () => (await request(RESEND_DELIVERY, { endpointId, eventId: attempt.eventId }), `Event ${attempt.eventId} is sent again.`))}>
                        Resend
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {attempts.data && <Pager label="Delivery attempts" total={attempts.data.deliveryAttempts.totalCount} offset={offset} onChange={setOffset} />}
    </section>
  );
}
