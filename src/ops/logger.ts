import pino from 'pino';

/** Structured JSON logs on stdout; SLUICE_LOG_LEVEL sets the level (info by default). */
export const logger = pino({
  name: 'sluice',
  level: process.env['SLUICE_LOG_LEVEL'] ?? 'info',
  base: { pid: process.pid },
});
export type Logger = typeof logger;
