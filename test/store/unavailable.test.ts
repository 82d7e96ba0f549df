import { describe, expect, it } from 'vitest';
import { unavailableStore } from '../../src/store/unavailable.js';

/** Shapes the drivers really produce when a store is unreachable, and errors that must stay 500 / 4xx. */
describe('unavailableStore', () => {
  const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect' });

  it('names the database for pg socket errors, connection SQLSTATEs, pool timeouts and Prisma wrappers', () => {
    expect(unavailableStore(socket('ECONNREFUSED'))).toBe('database');
    expect(unavailableStore(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }))).toBe('database');
    expect(unavailableStore(new Error('timeout exceeded when trying to connect'))).toBe('database');
    expect(unavailableStore(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(unavailableStore(Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' }))).toBe('database');
    const adapter = Object.assign(new Error('DriverAdapterError'), { cause: { kind: 'postgres', code: '57P01', message: 'terminating connection' } });
    expect(unavailableStore(Object.assign(new Error('query failed'), { code: 'P2010', meta: { driverAdapterError: adapter } }))).toBe('database');
    expect(unavailableStore(Object.assign(new Error('wrapped'), { cause: { kind: 'ConnectionClosed' } }))).toBe('database');
  });

  it('names Redis for ioredis without its offline queue, past its command timeout or its retries', () => {
    expect(unavailableStore(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('redis');
    expect(unavailableStore(new Error('Command timed out'))).toBe('redis');
    expect(unavailableStore(new Error('Connection is closed.'))).toBe('redis');
    expect(unavailableStore(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe('redis');
  });

  it('leaves other errors alone: constraint violations, bugs, failed outbound calls', () => {
    expect(unavailableStore(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBeNull();
    expect(unavailableStore(Object.assign(new Error('syntax error'), { code: '42601', severity: 'ERROR' }))).toBeNull();
    expect(unavailableStore(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeNull();
    expect(unavailableStore(Object.assign(new TypeError('fetch failed'), { cause: socket('ECONNREFUSED') }))).toBeNull();
    expect(unavailableStore(null)).toBeNull();
  });
});
