import { type FormEvent, useState } from 'react';

import { describeError, type Session, signIn } from '../session.js';

export function SignInPage(props: { onSignedIn: (session: Session, key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await signIn(key.trim()), key.trim());
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="page narrow">
      <h1>Sign in to roam</h1>
      <p>
        Use a tenant API key (<code>sk-…</code>) to see and run your jobs, or an admin key for the
        operator pages. The key stays in this tab only and is never put in a URL.
      </p>
      <form onSubmit={(event) => void submit(event)} aria-describedby="signin-error">
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onChange={(event) => setKey(event.target.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p id="signin-error" role="alert" className="error">
        {error}
      </p>
    </main>
  );
}
