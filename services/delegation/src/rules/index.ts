export * from './entries';
export * from './conditions';
export * from './escalations';
export * from './evaluate';
export * from './monitoring';
export * from './recipients';
export * from './rota';
export * from './doses';
