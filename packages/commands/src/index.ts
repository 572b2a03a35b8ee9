export * from './stream-command';
export { storableJson } from './storable-json';
export * from './specification';
