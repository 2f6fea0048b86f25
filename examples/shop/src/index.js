// The shop's data layer: small functions that take a pg client (a pg.Client, or a client checked out of a pool).
export * from './errors.js';
export * from './transactions.js';
export * from './accounts.js';
export * from './inventory.js';
export * from './orders.js';
export * from './transfers.js';
export * from './reports.js';
