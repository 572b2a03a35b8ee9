/**
 * The record's deciders are specified with the one given / when / then helper every service's
 * tests share (@tandem/commands): given past events, when a decision, then events or a refusal.
 */
export { specification, type Outcome, type Specification } from '@tandem/commands';
