// OAuth on the Databricks REST stand-in (POST /oidc/v1/token, see server.ts): the client_credentials grant against
// the service principals, the RFC 8693 token exchange against the federation policies, and the access tokens issued.
import crypto from 'node:crypto';
import { jwtClaims } from '../github/id-token.ts';

export interface ServicePrincipal {
  clientId: string;
  clientSecret: string;
}

export interface FederationPolicy {
  issuer?: string;
  /** The `aud` the subject token must have. */
  audience: string;
  /** The `sub` the subject token must have. */
  subject: string;
  /** The service principal the policy belongs to; unset: an account-wide policy. */
  clientId?: string;
}

export interface OAuthOptions {
  servicePrincipals: ServicePrincipal[];
  policies: FederationPolicy[];
  accessTokenSeconds: number;
}

export function oauthService({ servicePrincipals, policies, accessTokenSeconds }: OAuthOptions) {
  const accessTokens = new Map<string, { expiresAt: number; principal: string }>();

  function issueAccessToken(principal: string) {
    const token = `dbx-oauth-${crypto.randomBytes(18).toString('hex')}`;
    accessTokens.set(token, { expiresAt: Date.now() + accessTokenSeconds * 1000, principal });
    return { access_token: token, token_type: 'Bearer', expires_in: accessTokenSeconds, scope: 'all-apis' };
  }

  /** POST /oidc/v1/token: `[status, answer]`. */
  function tokenEndpoint(form: URLSearchParams, authorization: string | undefined): [number, unknown] {
    if (form.get('scope') !== 'all-apis')
      return oauthError(400, 'invalid_scope', `Unsupported scope: ${form.get('scope') ?? '(none)'}`);
    const grant = form.get('grant_type');
    const principal =
      grant === 'client_credentials'
        ? clientCredentialsPrincipal(authorization, servicePrincipals)
        : grant === 'urn:ietf:params:oauth:grant-type:token-exchange'
          ? federatedPrincipal(form, policies)
          : oauthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grant ?? '(none)'}`);
    return typeof principal === 'string' ? [200, issueAccessToken(principal)] : principal;
  }

  /** Why an API request's Authorization header is refused (`[status, answer]`), or undefined when it is not. */
  function refusal(auth: string | undefined, personalToken: string): [number, unknown] | undefined {
    if (!auth || !/^Bearer \S+$/.test(auth))
      return [
        401,
        {
          error_code: 'UNAUTHENTICATED',
          message: 'Credential was not sent or was of an unsupported type for this API.',
        },
      ];
    const bearer = auth.slice('Bearer '.length);
    if (bearer.startsWith('dbx-oauth-')) {
      const issued = accessTokens.get(bearer);
      if (!issued || issued.expiresAt <= Date.now())
        return [
          401,
          {
            error_code: 'UNAUTHENTICATED',
            message: issued ? 'Token expired.' : 'Invalid OAuth access token.',
          },
        ];
    } else if (bearer !== personalToken)
      return [403, { error_code: 'PERMISSION_DENIED', message: 'Invalid access token.' }];
    return undefined;
  }

  return { accessTokens, tokenEndpoint, refusal };
}

function oauthError(status: number, error: string, description: string): [number, unknown] {
  return [status, { error, error_description: description }];
}

/** The client_credentials grant: the service principal that HTTP Basic `client_id:secret` names, or the error. */
function clientCredentialsPrincipal(
  authorization: string | undefined,
  servicePrincipals: ServicePrincipal[],
): string | [number, unknown] {
  const basic = /^Basic (\S+)$/.exec(authorization ?? '');
  if (!basic) return oauthError(401, 'invalid_client', 'Client authentication is required.');
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const clientId = decoded.slice(0, colon);
  const principal = servicePrincipals.find(
    (p) => p.clientId === clientId && p.clientSecret === decoded.slice(colon + 1),
  );
  if (colon < 0 || !principal) return oauthError(401, 'invalid_client', 'Client authentication failed');
  return principal.clientId;
}

/** The RFC 8693 token exchange: the principal a federation policy grants the subject token, or the error. */
function federatedPrincipal(form: URLSearchParams, policies: FederationPolicy[]): string | [number, unknown] {
  if (form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt')
    return oauthError(
      400,
      'invalid_request',
      'subject_token_type must be urn:ietf:params:oauth:token-type:jwt',
    );
  const claims = jwtClaims(form.get('subject_token') ?? '');
  if (!claims) return oauthError(400, 'invalid_request', 'subject_token is not a JWT');
  const clientId = form.get('client_id') ?? undefined;
  const exp = Number(claims.exp);
  if (!Number.isFinite(exp) || exp * 1000 <= Date.now())
    return oauthError(401, 'invalid_grant', 'The subject token has expired.');
  const policy = policies.find(
    (p) =>
      p.clientId === clientId &&
      (p.issuer ?? 'https://token.actions.githubusercontent.com') === claims.iss &&
      p.audience === claims.aud &&
      p.subject === claims.sub,
  );
  if (!policy)
    return oauthError(
      401,
      'invalid_grant',
      `No federation policy${clientId ? ` of service principal ${clientId}` : ''} matches the subject token (iss, aud, sub).`,
    );
  return clientId ?? `federated:${String(claims.sub)}`;
}
