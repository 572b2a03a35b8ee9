export * from './names';
export * from './uuid';
