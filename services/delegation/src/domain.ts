/**
 * The pure core of delegation: frameworks as data, the competence, delegation and escalation
 * machines with their decide / evolve, and the rules that raise escalations. No I/O.
 */
export * from './frameworks';
export * from './machines';
export * from './rules';
