import type { Bundle, OperationOutcome } from 'fhir/r4';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Sent, SocketChannel } from './delivery';

/**
 * The websocket channel (R5 Backport IG 1.1.0): the owner asks `$get-ws-binding-token` for a
 * token and the socket's URL, opens the socket and sends `bind-with-token <token>`; Tandem answers
 * with a `handshake` notification per subscription bound, then sends each `event-notification`
 * (and `heartbeat`) as one JSON text message, exactly the Bundles a rest-hook receives. Which
 * notifications are sent, and their numbers, are decided by delivery (./delivery.ts) as for
 * rest-hook: this module only holds the sockets. Built on `ws`, the well-kept WebSocket server for
 * Node (RFC 6455 framing, masking, ping/pong and limits are its, not ours).
 */
export const WEBSOCKET_PATH = '/fhir/Subscription/$websocket';

/** How long a binding token may wait to be used; it is used once. */
export const BINDING_TOKEN_SECONDS = 60;
/** A socket that has not bound by then is closed: an unbound socket is nobody's. */
const BIND_WITHIN_MS = 30_000;
/** The longest client message (a bind command is about 60 characters). */
const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** A socket that cannot keep up is closed rather than held in memory without end (its client binds again and asks $events). */
const MAX_BUFFERED_BYTES = 1_000_000;
/** The close code for a refused bind (RFC 6455 policy violation). */
const POLICY_VIOLATION = 1008;

interface Grant {
  readonly owner: string;
  readonly subscriptionIds: readonly string[];
  readonly expiresAt: number;
}

/** Single-use binding tokens, held in memory for a minute: a token is a capability, not an identity. */
export class BindingTokens {
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(owner: string, subscriptionIds: readonly string[]): { token: string; expiresAt: Date } {
    const at = this.now();
    for (const [token, grant] of this.grants) if (grant.expiresAt <= at) this.grants.delete(token);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = at + BINDING_TOKEN_SECONDS * 1000;
    this.grants.set(token, { owner, subscriptionIds, expiresAt });
    return { token, expiresAt: new Date(expiresAt) };
  }

  /** The grant, once: a token used or expired is gone. */
  redeem(token: string): Grant | undefined {
    const grant = this.grants.get(token);
    this.grants.delete(token);
    return grant && grant.expiresAt > this.now() ? grant : undefined;
  }
}

export interface WebSocketChannelDeps {
  readonly tokens: BindingTokens;
  /** The handshake Bundle of a subscription the grant's owner still has (undefined: deleted, or no longer theirs). */
  readonly handshake: (subscriptionId: string, owner: string) => Promise<Bundle | undefined>;
  readonly logger: Logger;
}

interface BoundSocket {
  readonly ws: WebSocket;
  readonly address: string;
}

const outcome = (diagnostics: string): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security', diagnostics }] });

export class WebSocketChannel implements SocketChannel {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  private readonly bySubscription = new Map<string, Set<BoundSocket>>();
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly open = new Set<WebSocket>();

  constructor(private readonly deps: WebSocketChannelDeps) {}

  /** The HTTP server's `upgrade`: takes the request if it is for the channel's path (true), leaves it otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(req.url ?? '/', 'http://tandem').pathname !== WEBSOCKET_PATH) return false;
    this.server.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req.socket.remoteAddress ?? 'unknown'));
    return true;
  }

  /** How many sockets are bound (for /health). */
  get boundSockets(): number {
    return new Set([...this.bySubscription.values()].flatMap((set) => [...set].map((b) => b.ws))).size;
  }

  private connected(ws: WebSocket, address: string) {
    this.open.add(ws);
    const mine = new Set<string>();
    const unbound = setTimeout(() => {
      if (mine.size === 0) ws.close(POLICY_VIOLATION, 'bind-with-token was not sent');
    }, BIND_WITHIN_MS);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void this.onMessage(ws, address, mine, isBinary ? undefined : Buffer.from(data as Buffer).toString('utf8')).catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'a websocket message could not be handled');
        ws.close(1011, 'internal error');
      });
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearTimeout(unbound);
      this.open.delete(ws);
      for (const id of mine) {
        const set = this.bySubscription.get(id);
        for (const b of set ?? []) if (b.ws === ws) set!.delete(b);
        if (set?.size === 0) this.bySubscription.delete(id);
      }
    });
  }

  private async onMessage(ws: WebSocket, address: string, mine: Set<string>, text: string | undefined) {
    const bind = text === undefined ? null : /^bind-with-token (\S{1,200})$/.exec(text.trim());
    if (!bind) {
      ws.send(JSON.stringify(outcome('The only message this channel takes is "bind-with-token <token>", the token from Subscription/$get-ws-binding-token')));
      return;
    }
    const grant = this.deps.tokens.redeem(bind[1]!);
    if (!grant) {
      ws.send(JSON.stringify(outcome('The binding token is not known, was used already, or has expired: ask $get-ws-binding-token for another')));
      ws.close(POLICY_VIOLATION, 'binding token refused');
      return;
    }
    for (const id of grant.subscriptionIds) {
      const handshake = await this.deps.handshake(id, grant.owner);
      if (!handshake || ws.readyState !== ws.OPEN) continue;
      // The handshake goes first: ws sends in order, and nothing is sent to the socket before it is bound below.
      ws.send(JSON.stringify(handshake));
      const set = this.bySubscription.get(id) ?? new Set<BoundSocket>();
      set.add({ ws, address });
      this.bySubscription.set(id, set);
      mine.add(id);
      for (const wake of this.waiting.get(id) ?? []) wake();
      this.waiting.delete(id);
    }
  }

  async send(subscriptionId: string, bundle: unknown): Promise<Sent> {
    const sockets = [...(this.bySubscription.get(subscriptionId) ?? [])];
    if (sockets.length === 0) return { ok: false, problem: 'no socket is bound to the subscription' };
    const text = JSON.stringify(bundle);
    const sent = await Promise.all(
      sockets.map(
        (b) =>
          new Promise<BoundSocket | undefined>((resolve) => {
            if (b.ws.readyState !== b.ws.OPEN) return resolve(undefined);
            if (b.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
              b.ws.terminate();
              return resolve(undefined);
            }
            // The callback comes once the message is written to the connection (or it failed).
            b.ws.send(text, (error) => resolve(error ? undefined : b));
          }),
      ),
    );
    const to = [...new Set(sent.filter((b): b is BoundSocket => b !== undefined).map((b) => b.address))];
    return to.length > 0 ? { ok: true, status: 200, to: to.join(' ') } : { ok: false, problem: 'no bound socket took the notification' };
  }

  bound(subscriptionId: string, signal: AbortSignal): Promise<void> {
    if ((this.bySubscription.get(subscriptionId)?.size ?? 0) > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiting.get(subscriptionId) ?? new Set<() => void>();
      const wake = () => {
        set.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      set.add(wake);
      this.waiting.set(subscriptionId, set);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private closed: Promise<void> | undefined;

  /** Closes every socket (at shutdown: an open socket would hold the HTTP server's close); once. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      // "Going away" (1001): the client binds again, with a new token, to the process that serves it next.
      await Promise.all([...this.open].map((ws) => new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1001, 'Tandem is stopping');
        // A client that does not answer the close is cut off rather than waited for.
        setTimeout(() => ws.terminate(), 1000).unref();
      })));
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closed;
  }
}
