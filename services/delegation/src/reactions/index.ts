export * from './context';
export * from './read-model';
export * from './care';
export * from './competence';
export * from './projection';
export * from './reactor';
