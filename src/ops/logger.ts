import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets, tokens, cookies, passwords and images never reach them (redacted by path). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
    level,
    base: { service: 'face-oidc' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.client_secret',
        '*.clientSecret',
        '*.token',
        '*.code',
      ],
      censor: '[redacted]',
    },
    },
    pino.destination({ fd, sync: false }),
  );
}
