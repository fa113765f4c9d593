#!/usr/bin/env node
// Self-test for provider.mjs, using only Node built-ins: starts the fixture as
// a child process and drives it the way a non-browser test client would
// (manual redirects + a tiny cookie jar), then checks the tokens it issues.
//
//   node selftest.mjs        (or: npm test)
//
// Set SELFTEST_VERBOSE=1 to see the provider's stderr.

import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PROVIDER = fileURLToPath(new URL('./provider.mjs', import.meta.url));
const CLIENT_ID = 'sportello';
const CLIENT_SECRET = 's3cret';
const REDIRECT_URI = 'http://127.0.0.1:9/cb'; // never contacted: the flow stops at its Location
const FISCAL_CODE = 'RSSMRA85T10A562S';
const CIE_CLAIM = 'https://attributes.eid.gov.it/fiscal_number';
const SPID_CLAIM = 'https://attributes.spid.gov.it/fiscal_number';
const VERBOSE = Boolean(process.env.SELFTEST_VERBOSE);

// --- helpers ---------------------------------------------------------------

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertEq(actual, expected, what) {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const b64url = (buf) => Buffer.from(buf).toString('base64url');

// --exit-on-stdin-eof: if this script dies, the provider does not outlive it.
async function startProvider(claimStyle) {
  const child = spawn(process.execPath, [
    PROVIDER, '--port', '0', '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET,
    '--redirect-uri', REDIRECT_URI, '--claim-style', claimStyle, '--exit-on-stdin-eof',
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    if (VERBOSE) process.stderr.write(d.replace(/^(?=.)/gm, `  [${claimStyle}] `));
  });
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => { throw new Error(`provider exited before READY:\n${stderr}`); }),
  ]);
  clearTimeout(timeout);
  const match = /^READY (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
  assert(match, `unexpected first stdout line: ${JSON.stringify(first)}`);
  return {
    issuer: match[1],
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      assertEq(code, 0, `provider exit code (signal ${signal})`);
    },
    child,
  };
}

// Minimal cookie jar: name/value/path, honours deletion (Max-Age=0 or an
// Expires in the past), sends cookies whose Path prefixes the request path.
class CookieJar {
  #cookies = new Map();
  store(url, headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired || value === '') this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }
  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

// Fetches `url`, then follows redirects (303/302 become GET) until a
// Location points at the client's redirect URI or a non-redirect arrives.
async function follow(jar, url, init = {}) {
  for (let hops = 0; hops < 10; hops += 1) {
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(url, res.headers);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      return { url, res, body: await res.text() };
    }
    await res.arrayBuffer();
    const next = new URL(location, url).href;
    if (next.startsWith(`${REDIRECT_URI}?`) || next.startsWith(`${REDIRECT_URI}#`)) {
      return { callback: new URL(next) };
    }
    url = next;
    init = {};
  }
  throw new Error('too many redirects');
}

function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function authorizeUrl(issuer, { state, nonce, challenge }) {
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid profile',
    state,
    nonce,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
  });
  return url.href;
}

// authorize -> /interaction/<uid> -> POST form -> ... -> redirect_uri?code&state
async function authorize(issuer, form, { submit = 'login', jar = new CookieJar() } = {}) {
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const pkce = pkcePair();

  const page = await follow(jar, authorizeUrl(issuer, { state, nonce, challenge: pkce.challenge }));
  assert(page.res, `expected the login page, got a redirect to ${page.callback}`);
  assertEq(page.res.status, 200, 'login page status');
  const uid = /^\/interaction\/([^/]+)$/.exec(new URL(page.url).pathname)?.[1];
  assert(uid, `expected /interaction/<uid>, landed on ${page.url}`);
  const action = `/interaction/${uid}/${submit}`;
  assert(page.body.includes(`action="${action}"`), `login page has no form posting to ${action}`);
  for (const field of ['fiscal_code', 'given_name', 'family_name']) {
    assert(page.body.includes(`name="${field}"`), `login page has no ${field} input`);
  }

  const done = await follow(jar, new URL(action, issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  assert(done.callback, `expected a redirect to ${REDIRECT_URI}, got ${done.res?.status}: ${done.body}`);
  assertEq(done.callback.searchParams.get('state'), state, 'callback state');
  assertEq(done.callback.searchParams.get('iss'), issuer, 'callback iss (RFC 9207)');
  return { callback: done.callback, nonce, verifier: pkce.verifier };
}

async function tokenRequest(issuer, params, auth = 'basic') {
  const body = new URLSearchParams(params);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic') {
    // RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(CLIENT_ID)}:${enc(CLIENT_SECRET)}`).toString('base64')}`;
  } else {
    body.set('client_id', CLIENT_ID);
    body.set('client_secret', CLIENT_SECRET);
  }
  const res = await fetch(new URL('/token', issuer), { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}

async function verifyIdToken(issuer, idToken) {
  const discovery = await (await fetch(new URL('/.well-known/openid-configuration', issuer))).json();
  assertEq(discovery.issuer, issuer, 'discovery issuer');
  const jwks = await (await fetch(discovery.jwks_uri)).json();

  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  assertEq(header.alg, 'RS256', 'id_token alg');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert(jwk, `no JWKS key with kid ${header.kid}`);
  assert(!('d' in jwk), 'JWKS leaks a private key');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  assert(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'id_token signature does not verify');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

// Login + code exchange (checking PKCE binding) + verified ID token.
async function login(issuer, form, { auth = 'basic', jar } = {}) {
  const { callback, nonce, verifier } = await authorize(issuer, form, { jar });
  const code = callback.searchParams.get('code');
  assert(code, `no code in callback ${callback}`);
  const params = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };

  const wrong = await tokenRequest(issuer, { ...params, code_verifier: pkcePair().verifier }, auth);
  assertEq(wrong.json.error, 'invalid_grant', 'token error with a wrong code_verifier');

  const token = await tokenRequest(issuer, params, auth);
  assertEq(token.status, 200, `token status (${JSON.stringify(token.json)})`);
  assertEq(token.json.token_type, 'Bearer', 'token_type');

  const claims = await verifyIdToken(issuer, token.json.id_token);
  assertEq(claims.iss, issuer, 'id_token iss');
  assertEq(claims.aud, CLIENT_ID, 'id_token aud');
  assertEq(claims.nonce, nonce, 'id_token nonce');
  assert(claims.exp > Date.now() / 1000, 'id_token already expired');
  assert(/^[0-9a-f]{32}$/.test(claims.sub), `sub is not opaque: ${claims.sub}`);
  return { claims, accessToken: token.json.access_token, params };
}

// Full flow for one claim style, checking the ID token and userinfo claims.
async function loginFlow(claimStyle, form, expected, auth = 'basic') {
  const provider = await startProvider(claimStyle);
  try {
    const { issuer } = provider;
    const { claims, accessToken, params } = await login(issuer, form, { auth });
    for (const [name, value] of Object.entries(expected)) assertEq(claims[name], value, `id_token ${name}`);
    const other = claimStyle === 'cie' ? SPID_CLAIM : CIE_CLAIM;
    assert(!(other in claims), `id_token unexpectedly carries ${other}`);

    const userinfo = await (await fetch(new URL('/me', issuer), {
      headers: { authorization: `Bearer ${accessToken}` },
    })).json();
    assertEq(userinfo.sub, claims.sub, 'userinfo sub');
    for (const [name, value] of Object.entries(expected)) assertEq(userinfo[name], value, `userinfo ${name}`);

    // A code is single-use; replaying it also revokes what it was exchanged for.
    const replay = await tokenRequest(issuer, params, auth);
    assertEq(replay.json.error, 'invalid_grant', 'token error for a replayed code');
    const revoked = await fetch(new URL('/me', issuer), { headers: { authorization: `Bearer ${accessToken}` } });
    assertEq(revoked.status, 401, 'userinfo status after code replay');
  } finally {
    await provider.stop();
  }
}

// --- cases -----------------------------------------------------------------

const cases = {
  'cie: login, code exchange (client_secret_basic), RS256 ID token, userinfo': () => loginFlow(
    'cie',
    { fiscal_code: FISCAL_CODE.toLowerCase(), given_name: 'Giuseppina', family_name: 'Bianchi' },
    { [CIE_CLAIM]: `TINIT-${FISCAL_CODE}`, given_name: 'Giuseppina', family_name: 'Bianchi' },
  ),
  'spid: login with default names, code exchange (client_secret_basic)': () => loginFlow(
    'spid',
    { fiscal_code: FISCAL_CODE },
    { [SPID_CLAIM]: FISCAL_CODE, given_name: 'Mario', family_name: 'Rossi' },
  ),
  'client_secret_post is accepted too': () => loginFlow(
    'cie', { fiscal_code: FISCAL_CODE }, { [CIE_CLAIM]: `TINIT-${FISCAL_CODE}` }, 'post',
  ),
  'same cookie jar: every flow shows the form, a new fiscal code is a new sub': async () => {
    const provider = await startProvider('spid');
    try {
      const jar = new CookieJar();
      const { claims: first } = await login(provider.issuer, { fiscal_code: FISCAL_CODE }, { jar });
      const { claims: again } = await login(provider.issuer, { fiscal_code: FISCAL_CODE }, { jar });
      const { claims: other } = await login(provider.issuer, { fiscal_code: 'VRDGPP80A01D969X' }, { jar });
      assertEq(again.sub, first.sub, 'sub is stable for one fiscal code');
      assert(other.sub !== first.sub, 'different fiscal codes share a sub');
      assertEq(other[SPID_CLAIM], 'VRDGPP80A01D969X', 'second login fiscal code');
    } finally {
      await provider.stop();
    }
  },
  'abort ends with error=access_denied': async () => {
    const provider = await startProvider('cie');
    try {
      const { callback } = await authorize(provider.issuer, {}, { submit: 'abort' });
      assertEq(callback.searchParams.get('error'), 'access_denied', 'callback error');
      assert(!callback.searchParams.has('code'), 'abort still returned a code');
    } finally {
      await provider.stop();
    }
  },
  '--exit-on-stdin-eof: closing stdin stops the provider': async () => {
    const provider = await startProvider('spid');
    const exited = once(provider.child, 'exit');
    provider.child.stdin.end();
    const [code] = await exited;
    assertEq(code, 0, 'provider exit code after stdin EOF');
  },
  'unregistered redirect_uri gets a 400 page, not a redirect': async () => {
    const provider = await startProvider('cie');
    try {
      const url = new URL(authorizeUrl(provider.issuer, { state: 'st', nonce: 'n', challenge: pkcePair().challenge }));
      url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/elsewhere');
      const res = await follow(new CookieJar(), url.href);
      assertEq(res.res?.status, 400, 'status');
      assert(res.body.includes('redirect_uri did not match'), `unexpected body: ${res.body}`);
    } finally {
      await provider.stop();
    }
  },
  'PKCE is required': async () => {
    const provider = await startProvider('cie');
    try {
      const res = await follow(new CookieJar(), authorizeUrl(provider.issuer, { state: 'st', nonce: 'n' }));
      assert(res.callback, `expected an error redirect, got ${res.res?.status}`);
      assertEq(res.callback.searchParams.get('error'), 'invalid_request', 'callback error');
      assertEq(res.callback.searchParams.get('state'), 'st', 'callback state');
    } finally {
      await provider.stop();
    }
  },
};

let passed = 0;
let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    await run();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${err.stack ?? err}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
