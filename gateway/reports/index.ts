// Reports for analysts: the replica-first databases with their fallback, and the report routes.
export { createReportDatabases } from './databases.ts';
export type { ReportDatabases, ReportDatabasesOptions, ReportSource } from './databases.ts';
export { reportRoutes } from './routes.ts';
export type { ReportsOptions } from './routes.ts';
