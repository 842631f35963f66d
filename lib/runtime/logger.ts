/** The process's structured JSON logger (Powertools), created once. */
import { Logger } from '@aws-lambda-powertools/logger';

export function createLogger(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'): Logger {
  return new Logger({ serviceName: 'agora', logLevel: level });
}
