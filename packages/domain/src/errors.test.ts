import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RelaisError, isRetryable, toRelaisError } from './errors';

describe('RelaisError', () => {
  it('takes retryability from the code table unless overridden', () => {
    expect(new RelaisError('BUS_UNAVAILABLE', 'down').retryable).toBe(true);
    expect(new RelaisError('MESSAGE_INVALID', 'bad').retryable).toBe(false);
    expect(new RelaisError('STORE_CONFLICT', 'race', { retryable: true }).retryable).toBe(true);
  });

  it('wraps foreign errors and keeps the cause', () => {
    const cause = new TypeError('boom');
    const wrapped = toRelaisError(cause, 'HANDLER_FAILED');
    expect(wrapped.code).toBe('HANDLER_FAILED');
    expect(wrapped.cause).toBe(cause);
    expect(toRelaisError(wrapped)).toBe(wrapped);
  });

  it('treats unknown errors as retryable so a transient fault is not dead-lettered', () => {
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable(new RelaisError('VALIDATION_FAILED', 'no'))).toBe(false);
  });

  it('describes every code in one line', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.description).not.toContain('\n');
    }
  });
});
