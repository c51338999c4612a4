/**
 * Defaults of the driver settings that a caller may leave out (tests, tools, the benches): ConfigSchema's,
 * the one source, exactly as an unset variable gives them. The satel-ingest role (cli/roles.ts) passes
 * every one from the validated configuration.
 */
import { Type } from '@sinclair/typebox';
import { ConfigSchema } from '../../../platform/index.ts';
import { parseValue } from '../../../platform/validate.ts';

export const SATEL_DEFAULTS = parseValue(Type.Pick(ConfigSchema, [
  'SATEL_ANSWER_TIMEOUT_MS', 'SATEL_CONNECT_TIMEOUT_MS', 'SATEL_KEEPALIVE_MS', 'SATEL_LOG_SWEEP_MS', 'SATEL_MONITORING',
  'SATEL_PUSH_READS_PER_S', 'SATEL_NAME_READS_PER_S', 'SATEL_LOG_CATCHUP_MAX', 'LINK_SUPERVISION_S', 'SATEL_LEASE_TTL_MS', 'SATEL_LOG_LINES_PER_MINUTE',
]), {}, { code: 'E_CONFIG' });
