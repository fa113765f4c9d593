#!/usr/bin/env node
// Test-only OpenID Connect provider for Sportello's end-to-end tests.
//
// It wraps the OpenID-certified `oidc-provider` package and behaves like a
// SPID / CIE OpenID provider as far as Sportello cares: authorization code
// flow, PKCE S256, RS256-signed ID tokens carrying the Italian fiscal code in
// the claim that the real federations use. It is NOT an identity provider:
// whoever types a fiscal code into its form is logged in as that person.
//
// Usage (see README.md):
//   node provider.mjs --port 0 --client-id sportello --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:8080/auth/callback [--redirect-uri ...] \
//     [--claim-style cie|spid] [--exit-on-stdin-eof]
//
// stdout carries exactly one line, `READY <issuer>`; everything else
// (including oidc-provider's own notices) goes to stderr.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info, i.e. to stdout. The
// harness reads stdout for the READY line, so route all console output to
// stderr before the library is even loaded (hence the dynamic import).
console.log = console.info = console.debug = (...args) => console.error(...args);
const { default: Provider } = await import('oidc-provider');

// Claim names and value formats used by the Italian federations.
const CLAIM_STYLES = {
  // CIE OpenID Connect: fiscal number with the ETSI "TINIT-" prefix.
  cie: { claim: 'https://attributes.eid.gov.it/fiscal_number', value: (cf) => `TINIT-${cf}` },
  // SPID OpenID Connect: the bare fiscal code.
  spid: { claim: 'https://attributes.spid.gov.it/fiscal_number', value: (cf) => cf },
};

function usage(message) {
  console.error(`provider.mjs: ${message}
usage: node provider.mjs --port <n|0> --client-id <id> --client-secret <secret>
                         --redirect-uri <url> [--redirect-uri <url> ...]
                         [--claim-style cie|spid] [--exit-on-stdin-eof]`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'claim-style': { type: 'string', default: 'cie' },
      'exit-on-stdin-eof': { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  usage(err.message);
}

const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`invalid --port ${args.port}`);
if (!args['client-id']) usage('--client-id is required');
if (!args['client-secret']) usage('--client-secret is required');
if (!args['redirect-uri']?.length) usage('at least one --redirect-uri is required');
const style = CLAIM_STYLES[args['claim-style']];
if (!style) usage(`unknown --claim-style ${args['claim-style']} (expected cie or spid)`);

// Accounts live in memory, keyed by the opaque `sub`. They are created (or
// updated) by the login form, so they only exist for the life of the process.
const accounts = new Map();

// `sub` must be stable for a given person but must not be the fiscal code
// itself (real providers hand out opaque or pairwise subjects).
function subjectFor(fiscalCode) {
  return createHash('sha256').update(`sportello-test-idp:${fiscalCode}`).digest('hex').slice(0, 32);
}

const SESSION_COOKIE = 'test_idp_session';

// Bind first: with --port 0 the issuer URL (which embeds the port) is only
// known once the socket is listening, and the Provider needs it up front.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// A fresh RSA key per run; its public half is served at /jwks.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    // 'web' clients may register plain http redirect URIs (including
    // loopback) for the code flow; oidc-provider only insists on https for
    // web clients using the implicit flow, which is not enabled here.
    application_type: 'web',
    redirect_uris: args['redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // client_secret_basic is the default; client_secret_post is accepted too.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  // Let the registered client use either auth method; it still defaults to basic.
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  jwks: { keys: [signingJwk] },
  responseTypes: ['code'],
  scopes: ['openid', 'profile'],
  // Real SPID/CIE providers release these when asked through the `claims`
  // request parameter; the fixture keeps it simple and releases all of them
  // with the `profile` scope.
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', style.claim],
  },
  // By default oidc-provider puts scope-requested claims only in userinfo
  // whenever an access token is also issued (OIDC Core 5.4). Sportello reads
  // the fiscal code from the ID token, so put them there too.
  conformIdTokenClaims: false,
  // PKCE is mandatory for every client (oidc-provider only supports S256).
  pkce: { required: () => true },
  features: {
    // The built-in dev login pages are meant for a browser and log in any
    // value without the fiscal-code semantics; they are replaced by the tiny
    // scriptable form below.
    devInteractions: { enabled: false },
    // Not needed by Sportello; without it, access tokens are plain opaque
    // tokens for the userinfo endpoint.
    resourceIndicators: { enabled: false },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    // Cookies ignore ports, so the fixture and Sportello (both on 127.0.0.1)
    // share one cookie scope in the test client's jar: use names that cannot
    // collide with Sportello's.
    names: { session: SESSION_COOKIE, interaction: 'test_idp_interaction', resume: 'test_idp_resume' },
  },
  // Explicit (short) lifetimes, in seconds; also silences oidc-provider's
  // "default ttl function called" notices.
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          given_name: account.givenName,
          family_name: account.familyName,
          [style.claim]: style.value(account.fiscalCode),
        };
      },
    };
  },
  // Plain-text errors are easier to read in test logs than the default page.
  async renderError(ctx, out, error) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = Object.entries(out).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
  },
});

for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => console.error(`[oidc] ${event}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`));
}

// --- Interactions --------------------------------------------------------

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error) {
  return `<!DOCTYPE html>
<html lang="it">
<head><meta charset="utf-8"><title>Test IdP - Login</title></head>
<body>
<h1>Test IdP (Sportello fixture)</h1>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label>Codice fiscale <input name="fiscal_code" required autofocus></label>
  <label>Nome <input name="given_name"></label>
  <label>Cognome <input name="family_name"></label>
  <button type="submit">Entra</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <button type="submit">Annulla</button>
</form>
</body>
</html>
`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Login and consent in one step: the fixture has no consent screen, the
// client always gets what it asked for among `openid profile`. (The `claims`
// request parameter is disabled in oidc-provider by default, so scopes are
// all there is to grant; and with no SSO, see below, there is never an
// earlier grant to extend.)
async function grantFor(details, accountId) {
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  const scopes = String(details.params.scope ?? '').split(' ').filter((s) => s === 'openid' || s === 'profile');
  grant.addOIDCScope(scopes.join(' '));
  return grant.save();
}

// Provider#use inserts middleware before oidc-provider's own router.

// No single sign-on: the authorization endpoint (/auth, and its resume step
// /auth/<uid>) never sees the IdP session cookie, so every authorization
// request shows the login form and logs in exactly the fiscal code submitted,
// even when the test client's cookie jar still holds an earlier login.
// Without this, oidc-provider would silently reuse the previous person, or,
// when a different fiscal code is submitted, answer with a JavaScript
// auto-submitting logout page that a non-browser client cannot get past.
// (The cookie still reaches /session/end, so RP-initiated logout works.)
provider.use(async (ctx, next) => {
  if ((ctx.path === '/auth' || ctx.path.startsWith('/auth/')) && ctx.req.headers.cookie) {
    ctx.req.headers.cookie = ctx.req.headers.cookie
      .split(';')
      .filter((c) => !c.trim().startsWith(`${SESSION_COOKIE}=`) && !c.trim().startsWith(`${SESSION_COOKIE}.sig=`))
      .join(';');
  }
  return next();
});

// The login form: GET /interaction/<uid>, POST /interaction/<uid>/login,
// POST /interaction/<uid>/abort. oidc-provider redirects here from /auth
// (interactions.url) and sets the interaction cookie for this path.
const INTERACTION = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/;
provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (!match) return next();
  const [, uid, action] = match;
  ctx.set('cache-control', 'no-store');

  try {
    // Reads the short-lived interaction cookie set by /auth.
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction cookie does not match the URL');

    if (!action && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = loginPage(uid);
      return;
    }
    if (ctx.method !== 'POST' || !action) ctx.throw(405, 'method not allowed');

    let result;
    if (action === 'abort') {
      result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    } else {
      const form = await readForm(ctx.req);
      const fiscalCode = (form.get('fiscal_code') ?? '').trim().toUpperCase();
      if (!fiscalCode) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = loginPage(uid, 'fiscal_code is required');
        return;
      }
      const accountId = subjectFor(fiscalCode);
      accounts.set(accountId, {
        fiscalCode,
        givenName: form.get('given_name')?.trim() || 'Mario',
        familyName: form.get('family_name')?.trim() || 'Rossi',
      });
      const grantId = await grantFor(details, accountId);
      result = { login: { accountId }, consent: { grantId } };
      console.error(`[fixture] login ${fiscalCode} -> sub ${accountId}`);
    }

    // Stores the result and hands back the /auth/<uid> resume URL; 303 so
    // that the browser (or test client) follows it with a GET.
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.redirect(returnTo);
    ctx.status = 303;
  } catch (err) {
    // oidc-provider errors carry the useful part in error_description
    // (e.g. "interaction session id cookie not found").
    const message = err.error_description ? `${err.message}: ${err.error_description}` : err.message;
    console.error(`[fixture] interaction ${uid}: ${message}`);
    ctx.status = err.status ?? 400;
    ctx.type = 'text/plain';
    ctx.body = `interaction error: ${message}\n`;
  }
});

// --- Start ---------------------------------------------------------------

server.on('request', provider.callback());

function shutdown(signal) {
  console.error(`[fixture] ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
// Opt-in safety net for harnesses: a test that spawns us with a piped stdin
// and crashes (closing the pipe) takes the provider down with it.
if (args['exit-on-stdin-eof']) {
  process.stdin.on('end', () => shutdown('stdin EOF')).resume();
}

console.error(`[fixture] client ${args['client-id']}, claim style ${args['claim-style']}, redirect URIs ${args['redirect-uri'].join(' ')}`);
process.stdout.write(`READY ${issuer}\n`);
