/** The dashboard page: endpoints (list, create, delete) over the GraphQL API. */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>event-service</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1a202c; }
  h1 { font-size: 1.4rem; } table { width: 100%; border-collapse: collapse; margin-top: 1rem; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #e2e8f0; }
  code { font-size: 12px; } .error { color: #c53030; } form { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: 1rem; }
  input, select, button { font: inherit; padding: .3rem .5rem; }
</style>
</head>
<body>
<h1>event-service · Endpoints</h1>
<label>API token <input id="token" type="password" size="40" autocomplete="off"></label>
<button id="load">Load</button>
<form id="create">
  <select id="type"><option value="WEB_SOCKET">Websocket</option><option value="WEB_HOOK">Webhook</option></select>
  <input id="name" placeholder="name" required>
  <input id="url" placeholder="https://receiver.example/hook (webhook)">
  <select id="method"><option>POST</option><option>PUT</option><option>PATCH</option></select>
  <button>Create</button>
</form>
<p id="message" role="status"></p>
<table><thead><tr><th>Name</th><th>Type</th><th>endpoint_id</th><th>Target</th><th>Created</th><th></th></tr></thead>
<tbody id="rows"></tbody></table>
<script>
const $ = (id) => document.getElementById(id);
$('token').value = localStorage.getItem('event-service-token') || '';
async function gql(query, variables) {
  localStorage.setItem('event-service-token', $('token').value);
  const response = await fetch('/event-service/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', Token: $('token').value },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}
function say(text, isError) { $('message').textContent = text; $('message').className = isError ? 'error' : ''; }
async function load() {
  try {
    const data = await gql('{ endpoints(order:{creationDate:DESC}, pagination:{limit:200}) { totalCount collectionItems { id name type meta { url method } creationDate } } }');
    const rows = data.endpoints.collectionItems.map((e) => {
      const tr = document.createElement('tr');
      const target = e.type === 'WEB_SOCKET' ? location.origin.replace(/^http/, 'ws') + '/event-service/ws?endpoint_id=' + e.id : e.meta.method + ' ' + e.meta.url;
      for (const text of [e.name, e.type, e.id, target, new Date(e.creationDate).toLocaleString()]) {
        const td = document.createElement('td'); td.textContent = text; tr.appendChild(td);
      }
      const button = document.createElement('button'); button.textContent = 'Delete';
      button.onclick = async () => { try { await gql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: e.id }); load(); } catch (err) { say(err.message, true); } };
      const td = document.createElement('td'); td.appendChild(button); tr.appendChild(td);
      return tr;
    });
    $('rows').replaceChildren(...rows);
    say(data.endpoints.totalCount + ' endpoint(s)');
  } catch (err) { say(err.message, true); }
}
$('load').onclick = load;
$('create').onsubmit = async (event) => {
  event.preventDefault();
  try {
    if ($('type').value === 'WEB_SOCKET') {
      await gql('mutation($name: String!) { createWebSocketEndpoint(name: $name) { id } }', { name: $('name').value });
    } else {
      await gql('mutation($name: String!, $url: String!, $method: WebhookMethod) { createWebhookEndpoint(name: $name, url: $url, method: $method) { id } }',
        { name: $('name').value, url: $('url').value, method: $('method').value });
    }
    $('name').value = ''; load();
  } catch (err) { say(err.message, true); }
};
if ($('token').value) load();
</script>
</body>
</html>
`;
