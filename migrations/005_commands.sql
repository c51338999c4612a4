-- Arm/disarm commands over RabbitMQ (commands/, issue #6).
--
-- commands (001) is the request and its terminal state as operators see it: PENDING until the command
-- processor records the one terminal result (first one wins; later ones are ignored and audited).
--
-- command_executions is the execution ledger, the "executed once or never" part: a driver inserts the row
-- (claim) BEFORE it sends anything to the panel, only while the command is PENDING and not expired, and
-- writes the result into it afterwards. A second delivery of the same command (redelivery after a crash
-- or a broker restart, a duplicate publish, a dead-lettered copy) finds the row and is answered from it,
-- never sent to the panel again. A row with a claim but no result is an interrupted execution: it is
-- settled by read-back or failed, never repeated. The dead-letter consumer and the sweeper settle
-- through the same row, so every path agrees on one result.

ALTER TABLE commands
  ADD COLUMN panel_result_code integer,
  ADD COLUMN published_at      timestamptz;

-- The sweeper's work list: pending commands by expiry.
CREATE INDEX commands_pending_idx ON commands (expires_at) WHERE status = 'PENDING';

CREATE TABLE command_executions (
  command_id  uuid PRIMARY KEY REFERENCES commands(id) ON DELETE CASCADE,
  driver_id   text NOT NULL,            -- who claimed it: a driver id, 'dead-letter', 'sweeper' or 'gateway'
  fencing     bigint NOT NULL DEFAULT 0, -- the panel lease fencing number of the claiming driver
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  result      jsonb                      -- the CommandResult every later delivery is answered with
);
