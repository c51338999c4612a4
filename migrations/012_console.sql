-- The operator console (issue #13): intents recorded offline, passkeys, and the PIN of the quick unlock.
--
-- intents: "I will handle alarm X", recorded by an operator while the console had no link, sent when it is
-- back. The gateway arbitrates each one once against the alarm as it is then: claimed for the operator if
-- the alarm is still NEW (and at the version the operator saw, or a later one that is still NEW), refused with
-- the reason otherwise (taken by someone else, already closed …). client_id is the console's own id of the
-- intent, so an intent sent twice (a retry after a lost answer) is arbitrated once.
CREATE TABLE intents (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id    uuid NOT NULL,
  alarm_id     bigint NOT NULL REFERENCES alarms(id) ON DELETE CASCADE,
  action       text NOT NULL CHECK (action IN ('claim')),
  seen_version integer NOT NULL,
  recorded_at  timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  outcome      text NOT NULL CHECK (outcome IN ('claimed', 'refused')),
  reason       text,
  owner        text,
  UNIQUE (user_id, client_id)
);
CREATE INDEX intents_alarm_idx ON intents (alarm_id);

-- WebAuthn credentials (passkeys): the public key and signature counter of each authenticator a user
-- registered; login with one needs no password. credential_id is the authenticator's id (base64url).
CREATE TABLE webauthn_credentials (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  credential_id text NOT NULL UNIQUE,
  public_key    bytea NOT NULL,
  counter       bigint NOT NULL DEFAULT 0,
  transports    text[] NOT NULL DEFAULT '{}',
  label         text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- The quick-unlock PIN of a shared desk (scrypt hash, like passwords), with its own failure count: a locked
-- screen after too many wrong PINs wants the password again.
ALTER TABLE users
  ADD COLUMN pin_hash     text,
  ADD COLUMN pin_failures integer NOT NULL DEFAULT 0;

-- What the operator reads about a site in the alarm detail: who to call (one contact a line: name, phone,
-- role) and standing notes (keys, dogs, access).
ALTER TABLE objects
  ADD COLUMN contacts text NOT NULL DEFAULT '',
  ADD COLUMN notes    text NOT NULL DEFAULT '';
