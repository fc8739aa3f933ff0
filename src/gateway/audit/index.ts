export * from './audit-key';
export * from './audit-log';
export * from './canonical-json';
export * from './record';
export * from './verify';
