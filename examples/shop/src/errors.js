// The shop's own errors. Callers (an HTTP layer, a job) switch on these classes, never on SQLSTATEs; the driver's
// error stays reachable as `cause` for logs.

/** SQLSTATEs the shop reacts to (PostgreSQL appendix A). */
export const SQLSTATE = Object.freeze({
  uniqueViolation: '23505',
  checkViolation: '23514',
  foreignKeyViolation: '23503',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  lockNotAvailable: '55P03',
});

export class ShopError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input is not acceptable (an amount of zero, a malformed email); nothing was written. */
export class InvalidInputError extends ShopError {}

export class NotFoundError extends ShopError {}

export class EmailTakenError extends ShopError {}

export class DuplicateSkuError extends ShopError {}

export class InsufficientFundsError extends ShopError {}

export class OutOfStockError extends ShopError {
  constructor(message, { sku, requested, available, ...options } = {}) {
    super(message, options);
    this.sku = sku;
    this.requested = requested;
    this.available = available;
  }
}

/** The order is not in a state that allows the operation (cancelling a cancelled order). */
export class OrderStateError extends ShopError {}

/** Another transaction holds the row and we chose not to wait (lock_timeout): try again later. */
export class BusyError extends ShopError {}

/** True for a server error with the given SQLSTATE, optionally raised by the named constraint. */
export function isPgError(err, sqlstate, constraint) {
  return err?.code === sqlstate && (constraint === undefined || err.constraint === constraint);
}

/** A positive whole number of cents (or units) that JavaScript can count exactly. */
export function positiveInteger(value, what) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(`${what} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}
