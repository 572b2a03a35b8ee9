import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';

/** What Tandem tells the app (GET /app-config.json): the identity provider it is configured with. */
export interface AppConfig {
  readonly mode: 'embedded' | 'server';
  readonly demo: boolean;
  readonly oidc: {
    readonly authority: string;
    readonly clientId: string;
    readonly scope: string;
    /** The embedded development sign-in passes its metadata (its issuer is a URN, not a URL). */
    readonly metadata?: Record<string, unknown>;
  };
}

const CONFIG_KEY = 'tandem.app-config';

/** The configuration from the server, or the last one seen when there is no signal. */
export const loadAppConfig = async (): Promise<AppConfig | undefined> => {
  try {
    const response = await fetch('/app-config.json', { headers: { accept: 'application/json' } });
    if (response.ok) {
      const config = (await response.json()) as AppConfig;
      localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
      return config;
    }
  } catch {
    // No signal: fall through to the last configuration seen.
  }
  const kept = localStorage.getItem(CONFIG_KEY);
  return kept ? (JSON.parse(kept) as AppConfig) : undefined;
};

/**
 * Sign-in is OpenID Connect authorization code with PKCE (S256), by oidc-client-ts. The user
 * (and so the access token) is kept in localStorage so the app opens signed in with no signal;
 * an expired sign-in leaves everything she has saved on the phone in place.
 */
export const createAuth = (config: AppConfig) => {
  const origin = window.location.origin;
  const manager = new UserManager({
    authority: config.oidc.authority,
    client_id: config.oidc.clientId,
    redirect_uri: `${origin}/signin-callback`,
    post_logout_redirect_uri: `${origin}/`,
    response_type: 'code',
    scope: config.oidc.scope,
    loadUserInfo: false,
    automaticSilentRenew: false,
    userStore: new WebStorageStateStore({ store: window.localStorage }),
    ...(config.oidc.metadata ? { metadata: config.oidc.metadata } : {}),
  });
  return {
    manager,
    /** The signed-in user, expired or not (the app tells her when it has run out). */
    user: (): Promise<User | null> => manager.getUser(),
    signIn: (returnTo: string) => manager.signinRedirect({ state: { returnTo } }),
    /** Back from the identity provider: the code is exchanged (with the PKCE verifier) for tokens. */
    completeSignIn: async (): Promise<string> => {
      const user = await manager.signinRedirectCallback();
      const state = user.state as { returnTo?: string } | undefined;
      return typeof state?.returnTo === 'string' && state.returnTo.startsWith('/') ? state.returnTo : '/';
    },
    signOut: () => manager.removeUser(),
  };
};
export type Auth = ReturnType<typeof createAuth>;
