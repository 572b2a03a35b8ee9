import { AuthenticationError, createAccessControl, type Principal, type TokenVerifier } from '@tandem/auth';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { authenticate, principalOf } from '../src';

/**
 * Two services' guards in one process, as the composition root mounts the record's and the
 * delegation service's: a request is authenticated once, and each route finds who is asking on
 * the request itself. The verifier stands in for the identity provider's keys (what is under
 * test is the HTTP side); everything else is real: the access control, express and HTTP.
 */
const sarah: Principal = { actor: { id: 'nurse-sarah', role: 'district-nurse' }, scopes: [], scope: '' };
const TOKEN = 'Bearer a.b.c';

let verified = 0;
const verifier: TokenVerifier = {
  verifyBearer: async (header) => {
    verified++;
    if (header !== TOKEN) throw new AuthenticationError('expired', 'The token is not valid');
    return sarah;
  },
};

let server: Server;
let url: string;

beforeAll(async () => {
  // One request a minute per user: authenticated twice, the second guard would refuse it (429).
  const control = createAccessControl({ verifier, rateLimit: { perUserPerMinute: 1 } });
  const refuse = (res: express.Response, error: { status: number; message: string }) => res.status(error.status).json({ refused: error.message });
  const app = express();
  app.use('/api', authenticate(control, refuse));
  app.use('/api', authenticate(control, refuse));
  app.get('/api/who', (req, res) => {
    const principal = principalOf(req);
    let replaced = true;
    try {
      (req as { principal?: Principal }).principal = { ...principal, actor: { id: 'someone-else', role: 'gp' } };
    } catch {
      replaced = false;
    }
    res.json({ who: principalOf(req).actor.id, replaced });
  });
  app.get('/open', (req, res) => {
    try {
      principalOf(req);
      res.json({ behindAuthentication: true });
    } catch (error) {
      res.status(500).json({ error: (error as Error).message });
    }
  });
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('a request through two guards is verified once, and its route finds who is asking on the request', async () => {
  verified = 0;
  const response = await fetch(`${url}/api/who`, { headers: { authorization: TOKEN } });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ who: 'nurse-sarah', replaced: false });
  expect(verified).toBe(1);
});

it('a bad token is refused with the RFC 6750 challenge, and the route never runs', async () => {
  const response = await fetch(`${url}/api/who`, { headers: { authorization: 'Bearer x.y.z' } });
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect(await response.json()).toEqual({ refused: 'The token is not valid' });
});

it('a route not behind authentication is told so, rather than finding no one', async () => {
  const response = await fetch(`${url}/open`);
  expect(await response.json()).toEqual({ error: 'This route is not behind authentication' });
});
