-- Core tables of the alarm-receiving centre (DESIGN.md §3). Keys and constraints here protect the
-- guarantees: one row per physical event (events.dedup_key), alarm versions only grow, processor offsets
-- stored with the data they produced.

CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-zA-Z0-9._@-]{2,64}$'),
  display_name  text NOT NULL,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('ADMIN','SUPERVISOR','OPERATOR','TECHNICIAN','FIELD_WORKER','SYSTEM')),
  disabled      boolean NOT NULL DEFAULT false,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE objects (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code                text NOT NULL UNIQUE,
  name                text NOT NULL,
  address             text NOT NULL DEFAULT '',
  latitude            double precision,
  longitude           double precision,
  service_mode_active boolean NOT NULL DEFAULT false,
  service_mode_until  timestamptz,
  test_mode           boolean NOT NULL DEFAULT false,
  test_mode_until     timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- TECHNICIAN and FIELD_WORKER see only the objects assigned to them.
CREATE TABLE user_objects (
  user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  object_id bigint NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, object_id)
);

CREATE TABLE panels (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  object_id           bigint NOT NULL REFERENCES objects(id),
  name                text NOT NULL,
  host                text NOT NULL,
  port                integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  model               text NOT NULL DEFAULT 'integra128',
  integration_key_enc bytea,   -- AES-256-GCM, key ring id inside; never logged
  user_code_enc       bytea,   -- idem
  enabled             boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX panels_object_idx ON panels (object_id);

CREATE TABLE zones (
  panel_id bigint NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
  number   integer NOT NULL CHECK (number BETWEEN 1 AND 256),
  name     text NOT NULL,
  PRIMARY KEY (panel_id, number)
);
CREATE TABLE partitions (
  panel_id bigint NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
  number   integer NOT NULL CHECK (number BETWEEN 1 AND 32),
  name     text NOT NULL,
  PRIMARY KEY (panel_id, number)
);
CREATE TABLE outputs (
  panel_id bigint NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
  number   integer NOT NULL CHECK (number BETWEEN 1 AND 256),
  name     text NOT NULL,
  PRIMARY KEY (panel_id, number)
);

CREATE TABLE sensors (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  object_id  bigint NOT NULL REFERENCES objects(id),
  vendor     text NOT NULL CHECK (vendor IN ('efento','blulog','other')),
  sender     text NOT NULL,          -- phone number or alphanumeric sender name
  sensor_ref text NOT NULL,          -- the vendor's sensor id / serial as it appears in the SMS
  name       text NOT NULL,
  UNIQUE (vendor, sensor_ref)
);

CREATE TABLE recorders (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  object_id    bigint NOT NULL REFERENCES objects(id),
  name         text NOT NULL,
  host         text NOT NULL,
  port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  login        text NOT NULL,
  password_enc bytea NOT NULL
);

-- Driver cursor and lease fencing per panel: an event whose fencing number is below the highest seen is
-- recorded but cannot change live state.
CREATE TABLE panel_cursors (
  panel_id       bigint PRIMARY KEY REFERENCES panels(id) ON DELETE CASCADE,
  last_log_index integer,
  fencing        bigint NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Last known live state (the gateway's fallback when Redis is away).
CREATE TABLE panel_state (
  panel_id   bigint PRIMARY KEY REFERENCES panels(id) ON DELETE CASCADE,
  state      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        uuid NOT NULL,
  dedup_key       text NOT NULL UNIQUE,
  source          text NOT NULL CHECK (source IN ('satel','link','sms')),
  kind            text NOT NULL,
  panel_id        bigint,
  sensor_ref      text,
  object_id       bigint,
  object_number   integer NOT NULL DEFAULT 0,
  panel_time      timestamptz,
  observed_at     timestamptz NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  fencing         bigint NOT NULL DEFAULT 0,
  stale           boolean NOT NULL DEFAULT false,
  payload         jsonb NOT NULL,
  src_topic       text NOT NULL,
  src_partition   integer NOT NULL,
  src_offset      bigint NOT NULL,
  trace_id        text,
  trace_origin_ms bigint
);
CREATE INDEX events_panel_time_idx ON events (panel_id, observed_at);
CREATE INDEX events_object_time_idx ON events (object_id, observed_at);

CREATE TABLE alarms (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  object_id       bigint NOT NULL REFERENCES objects(id),
  panel_id        bigint,
  source          text NOT NULL CHECK (source IN ('satel','link','sms')),
  zone            integer,
  bundle_key      text NOT NULL,     -- object/source/zone-or-sensor: events with the same key join an open alarm
  category        text NOT NULL,
  severity        text NOT NULL CHECK (severity IN ('CRITICAL','WARNING','INFO')),
  status          text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW','CLAIMED','ACKNOWLEDGED','RESOLVED','CLOSED')),
  version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  title           text NOT NULL,
  claimed_by      bigint REFERENCES users(id),
  claimed_at      timestamptz,
  event_count     integer NOT NULL DEFAULT 0,
  restore_count   integer NOT NULL DEFAULT 0,
  first_event_at  timestamptz NOT NULL,
  last_event_at   timestamptz NOT NULL,
  test            boolean NOT NULL DEFAULT false,
  service         boolean NOT NULL DEFAULT false,
  flood           boolean NOT NULL DEFAULT false,
  resolution_code text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarms_feed_idx ON alarms (status, severity, id DESC);
CREATE INDEX alarms_object_idx ON alarms (object_id, id DESC);
CREATE INDEX alarms_open_bundle_idx ON alarms (bundle_key, last_event_at DESC)
  WHERE status IN ('NEW','CLAIMED','ACKNOWLEDGED');

CREATE TABLE alarm_events (
  alarm_id bigint NOT NULL REFERENCES alarms(id) ON DELETE CASCADE,
  event_id bigint NOT NULL REFERENCES events(id),
  restore  boolean NOT NULL DEFAULT false,
  PRIMARY KEY (alarm_id, event_id)
);
CREATE INDEX alarm_events_event_idx ON alarm_events (event_id);

CREATE TABLE alarm_actions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alarm_id    bigint NOT NULL REFERENCES alarms(id) ON DELETE CASCADE,
  user_id     bigint REFERENCES users(id),
  action      text NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  version     integer NOT NULL,
  note        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarm_actions_alarm_idx ON alarm_actions (alarm_id, id);

-- Transactional outbox: written in the same transaction as the alarm change, published by the relay.
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind         text NOT NULL,            -- 'alarm.update', 'command.result', ...
  key          text NOT NULL,            -- message key (alarm id)
  payload      jsonb NOT NULL,
  push         boolean NOT NULL DEFAULT false,  -- also publish a push job (CRITICAL, not test/service)
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Processor offsets, committed in the same transaction as the rows they produced.
CREATE TABLE consumer_offsets (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  user_id     bigint REFERENCES users(id),
  username    text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  request_id  text,
  ip          text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

CREATE TABLE refresh_tokens (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  family      uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  spent_at    timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);

CREATE TABLE user_devices (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  fcm_token  text NOT NULL UNIQUE,
  platform   text NOT NULL DEFAULT 'android',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE commands (
  id           uuid PRIMARY KEY,
  panel_id     bigint NOT NULL REFERENCES panels(id),
  action       text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}'::jsonb,
  requested_by bigint REFERENCES users(id),
  reason       text NOT NULL,
  status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','SUCCEEDED','REJECTED','FAILED','EXPIRED')),
  result_reason text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  finished_at  timestamptz
);
CREATE INDEX commands_panel_idx ON commands (panel_id, created_at DESC);
