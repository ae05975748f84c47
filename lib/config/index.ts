/**
 * The one typed, validated configuration (docs/api.md sections 7 and 8), in sections. A
 * function asks only for the sections it uses, once at cold start, and passes them to the
 * shared instances it builds; every offending variable is reported in one ConfigError.
 */
export { configAtColdStart, loadConfig } from './load.ts';
export type { Loaded } from './load.ts';
export { MAX_REPORT_WINDOW_HOURS } from './sections.ts';
export type { Config, CrmConfig, ReportConfig, StateConfig, WidgetConfig } from './types.ts';
