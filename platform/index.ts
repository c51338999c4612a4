export { ConfigSchema, FEATURE_FLAGS, configDefaults, loadConfig, safeConfigView } from './config.ts';
export type { Config } from './config.ts';
export { ErrorCodes, StamError, isPoison, isRetryable, isStamError, keepsLink } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export { createLogger } from './logger.ts';
export { createLogBudget } from './log-budget.ts';
export type { LogBudget } from './log-budget.ts';
export type { Logger } from './logger.ts';
export { counter, gauge, histogram, registry, sampledGauge } from './metrics.ts';
export { NOTIFY_OUTBOX_SQL, OUTBOX_CHANNEL, createPool, ensureDatabase, inTransaction, withClient } from './db.ts';
export type { Pool, PoolClient } from './db.ts';
export { auditInsertSelect, writeAudit } from './audit.ts';
export type { AuditActor, AuditRecord, AuditSelect } from './audit.ts';
export { migrate, readMigrations } from './migrate.ts';
export { createKafka, createProducer, dlqTopic, provisionTopics, sendToDlq, topicSpecs } from './kafka.ts';
export type { Admin, Consumer, DeadLetter, EachBatchPayload, IHeaders, KafkaMessage, Producer, TopicSpec } from './kafka.ts';
export { createRedis, panelStateChannel, panelStateKey } from './redis.ts';
export type { Redis } from './redis.ts';
export { DEFAULT_OPS_PORTS, collectWarnings, runChecks, startOpsServer } from './ops.ts';
export type { Lifecycle, LifecycleState, ReadinessCheck } from './ops.ts';
export { runService } from './lifecycle.ts';
export type { Service } from './lifecycle.ts';
export { sleep, backoffMs, tokenBucket } from './time.ts';
export type { Jitter } from './time.ts';
export {
  SEALED, addKeyToFile, configureSecrets, createSecretBox, decryptSecret, encryptSecret, generateSecretKey, loadSecretKeyRing,
  parseSecretKeys, reencryptSecret, secretNeedsRotation,
} from './secrets.ts';
export type { SecretBox, SecretContext, SecretKeyRing, SecretsSource } from './secrets.ts';
export { dropRunResources } from './isolation.ts';
