import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { AGENTS, CREATE_AGENT, REVOKE_AGENT, ROTATE_AGENT_CREDENTIALS, type AgentRow, type IssuedAgent } from '../operations.js';
import { ConfirmButton, Field, FormActions, formatDate, FormError, IdButton, PAGE_SIZE, Pager, useQuery, useRefresh, useSubmit } from '../ui.js';

/** The credentials just issued: shown this once (the API keeps no copy), with the creds as a file to download. */
function IssuedPanel({ issued, onClose }: { issued: IssuedAgent; onClose: () => void }) {
  const download = issued.natsCredentials ? URL.createObjectURL(new Blob([issued.natsCredentials], { type: 'text/plain' })) : null;
  return (
    <section class="panel issued" aria-labelledby="issued-title">
      <h3 id="issued-title">Credentials of {issued.agent.name}</h3>
      <p class="hint">Shown this once: the service keeps no copy. Give them to the agent now; rotate them if they are lost.</p>
      <dl class="facts">
        <dt>Agent id</dt>
        <dd>
          <code class="wrap">{issued.agent.id}</code>
        </dd>
        <dt>HTTP token</dt>
        <dd>
          <code class="secret wrap" data-testid="issued-token">
            {issued.token}
          </code>
        </dd>
        <dt>NATS subject</dt>
        <dd>
          <code class="wrap">{issued.natsSubject}</code>
        </dd>
        <dt>NATS inbox prefix</dt>
        <dd>
          <code class="wrap">{issued.natsInboxPrefix}</code>
        </dd>
        <dt>NATS credentials</dt>
        <dd>
          {issued.natsCredentials && download ? (
            <>
              <textarea class="creds" readOnly rows={6} aria-label="NATS credentials (.creds)" value={issued.natsCredentials} />
              <a href={download} download={`agent-${issued.agent.id}.creds`}>
                Download agent-{issued.agent.id}.creds
              </a>
            </>
          ) : (
            <span>None: NATS runs without operator mode here (the agent posts over HTTP, or has a NATS user of the server's configuration).</span>
          )}
        </dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </section>
  );
}

function NewAgentForm({ onIssued, onCancel }: { onIssued: (issued: IssuedAgent) => void; onCancel: () => void }) {
  const [agentId, setAgentId] = useState<string>(() => crypto.randomUUID());
  const [name, setName] = useState('');
  const { errors, formError, busy, submit } = useSubmit(['agentId', 'name']);
  return (
    <form class="panel" aria-label="New agent" onSubmit={submit(async () => onIssued((await request(CREATE_AGENT, { agentId, name })).createAgent))}>
      <Field label="Agent id" error={errors['agentId']} hint="The id the agent's events carry (camera.agent_id): a UUID.">
        <input name="agentId" required value={agentId} aria-invalid={Boolean(errors['agentId'])} onInput={(event) => setAgentId(event.currentTarget.value)} />
      </Field>
      <Field label="Name" error={errors['name']}>
        <input name="name" required value={name} aria-invalid={Boolean(errors['name'])} onInput={(event) => setName(event.currentTarget.value)} />
      </Field>
      <FormActions formError={formError} busy={busy} submitLabel="Create agent" onCancel={onCancel} />
    </form>
  );
}

/** An agent's state in words: revoked, or when it was last heard of. */
function stateOf(agent: AgentRow): string {
  if (agent.revokedAt) return `revoked ${formatDate(agent.revokedAt)}`;
  return agent.lastEventAt ? 'active' : 'no event yet';
}

/**
 * Agents made through the API: their credentials are issued here (an HTTP
 * token and, in NATS operator mode, NATS credentials), rotated and revoked;
 * the list shows what ingest accepted of each lately.
 */
export function AgentsPage({ admin }: { admin: boolean }) {
  const [offset, setOffset] = useState(0);
  const [adding, setAdding] = useState(false);
  const [issued, setIssued] = useState<IssuedAgent | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const { data, error, reload } = useQuery(() => request(AGENTS, { pagination: { limit: PAGE_SIZE, offset } }), [offset]);
  // The activity columns follow what ingest accepts.
  useRefresh(reload, 5_000);
  const act = async (action: () => Promise<void>) => {
    try {
      await action();
      setActionError(null);
    } catch (failure) {
      setActionError((failure as Error).message);
    } finally {
      reload();
    }
  };

  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      <p class="hint">Agents made here get an HTTP token bound to them and, with NATS in operator mode, NATS credentials that may publish their own events only.</p>
      {admin && !adding && !issued && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            New agent
          </button>
        </div>
      )}
      {adding && (
        <NewAgentForm
          onIssued={(made) => {
            setAdding(false);
            setIssued(made);
            reload();
          }}
          onCancel={() => setAdding(false)}
        />
      )}
      {issued && <IssuedPanel issued={issued} onClose={() => setIssued(null)} />}
      <FormError error={actionError ?? error} />
      {data && (
        <>
          <p class="count" role="status">
            {data.agents.totalCount} agent{data.agents.totalCount === 1 ? '' : 's'}
          </p>
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Agent id</th>
                <th scope="col">Created</th>
                <th scope="col">Credentials issued</th>
                <th scope="col">Last event</th>
                <th scope="col">Events, last minute</th>
                <th scope="col">State</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data.agents.collectionItems.map((agent) => (
                <tr key={agent.id} data-agent-id={agent.id}>
                  <td data-label="Name" class="wrap">
                    {agent.name}
                  </td>
                  <td data-label="Agent id">
                    <IdButton id={agent.id} label="agent id" />
                  </td>
                  <td data-label="Created">{formatDate(agent.createdAt)}</td>
                  <td data-label="Credentials issued">{agent.credentialsIssuedAt ? formatDate(agent.credentialsIssuedAt) : '—'}</td>
                  <td data-label="Last event">{agent.lastEventAt ? formatDate(agent.lastEventAt) : '—'}</td>
                  <td data-label="Events, last minute">{agent.eventsLastMinute}</td>
                  <td data-label="State">{stateOf(agent)}</td>
                  {admin && (
                    <td data-label="Actions" class="row-actions">
                      {!agent.revokedAt && (
                        <>
                          <ConfirmButton
                            label="Rotate"
                            name={`Rotate credentials of ${agent.name}`}
                            confirmLabel="Issue new credentials"
                            question={`Issue ${agent.name} new credentials? The current ones are refused at once.`}
                            onConfirm={() => act(async () => setIssued((await request(ROTATE_AGENT_CREDENTIALS, { agentId: agent.id })).rotateAgentCredentials))}
                          />
                          <ConfirmButton
                            label="Revoke"
                            name={`Revoke ${agent.name}`}
                            confirmLabel="Revoke agent"
                            question={`Revoke ${agent.name}? Its token and NATS credentials are refused, and its connections closed.`}
                            onConfirm={() => act(async () => void (await request(REVOKE_AGENT, { agentId: agent.id })))}
                          />
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          <Pager label="Agents" total={data.agents.totalCount} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
