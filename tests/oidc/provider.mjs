// A real OpenID Connect provider for the sign-in tests (npm oidc-provider 9, Node 20).
// Its development login form accepts any login id; the account it signs in has that id
// as its verified e-mail, so a test picks the user it needs by typing an address.
// Configuration comes from the environment; prints "ready <issuer>" once it listens.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // Chainlit's generic provider posts the secret in the form and sends no PKCE challenge.
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => false },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: [process.env.OIDC_COOKIE_KEY] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: id.split('@')[0] };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
