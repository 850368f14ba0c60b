/** The words both sites use (see glossary.js). */

export type TermId =
  | 'election'
  | 'race'
  | 'ballot'
  | 'credential'
  | 'receipt'
  | 'turnout'
  | 'snapshot'
  | 'district'
  | 'region'
  | 'precinct'
  | 'candidate'
  | 'seat'
  | 'validVotes'
  | 'protocol';

export interface GlossaryEntry {
  readonly term: string;
  readonly definition: string;
  /** Lower-case stems, matched at the start of a word, that neither site may use for this meaning. */
  readonly avoid: readonly string[];
}

/** Term ids in the order the glossary is shown. */
export const TERM_IDS: readonly TermId[];
export const GLOSSARY: Readonly<Record<'kk' | 'ru' | 'en', Readonly<Record<TermId, GlossaryEntry>>>>;
