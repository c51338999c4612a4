-- Classification rules as data (seeded from config/alarm-rules.yaml when empty), and what the flood
-- rule needs: which alarm a flood alarm absorbed.

CREATE TABLE alarm_rules (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  position  integer NOT NULL UNIQUE,           -- first matching rule wins
  source    text NOT NULL CHECK (source IN ('satel','link','sms')),
  kind      text NOT NULL,
  log_class integer CHECK (log_class BETWEEN 0 AND 7),
  restore   boolean,
  effect    text NOT NULL CHECK (effect IN ('open','restore','state')),
  category  text NOT NULL,
  severity  text NOT NULL CHECK (severity IN ('CRITICAL','WARNING','INFO')),
  title     text NOT NULL,
  enabled   boolean NOT NULL DEFAULT true
);

-- Alarms opened per object, for the flood rule (more than N in M minutes collapse into one flood alarm).
CREATE INDEX alarms_object_opened_idx ON alarms (object_id, first_event_at) WHERE NOT flood;
