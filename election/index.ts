/**
 * The election module's public surface (docs/contracts.md). Other folders
 * import from here only, never from the files behind it.
 */

export { ballotBody, ballotBytes, type Selection } from './ballot-size.js';
export type {
  About,
  Candidate,
  CandidateStatus,
  District,
  ElectionConfig,
  Names,
  Official,
  PaperPrecinct,
  PartyBranch,
  Race,
  Region,
  SampleRoll,
  StaffMember,
} from './config-schema.js';
export { AboutSchema, CANDIDATE_STATUSES, ElectionConfigSchema } from './config-schema.js';
export {
  ElectionEventsFollower,
  type ElectionEventsFollowerEvents,
  eventSignatureProblem,
  type FollowerOptions as ElectionEventsFollowerOptions,
  newEventId,
  type SkipReason as ElectionEventSkipReason,
  signEvent,
} from './election-events.js';
export {
  applyEvent,
  candidateKey,
  type ElectionPause,
  type ElectionState,
  EVENT_ID_PATTERN,
  eventShapeProblem,
  initialState,
  isRefusal,
  type Phase,
  phaseAt,
  TRANSITION_REFUSALS,
  type TransitionRefusal,
  type TransitionRefusalCode,
} from './election-state.js';
export {
  ELECTION_ERROR_CODES,
  ElectionError,
  type ElectionErrorCode,
  type ElectionIssue,
  formatIssue,
  isElectionError,
} from './errors.js';
export {
  createStaffTokenVerifier,
  createTokenVerifier,
  DEV_ISSUER,
  DEV_STAFF_TOKEN_TTL_SEC,
  DEV_TOKEN_TTL_SEC,
  type DevLoginKeys,
  type IdentityClaims,
  type IssueDevTokenOptions,
  issueDevStaffToken,
  issueDevToken,
  issuerFromJwks,
  issuerWithKeys,
  jwksOf,
  keyId,
  STAFF_ROLES,
  type StaffClaims,
  type StaffRole,
  type StaffRoster,
  type StaffTokenVerifier,
  type StaffTokenVerifierOptions,
  staffRosterOf,
  type TokenVerifier,
  type TokenVerifierOptions,
  type TrustedIssuer,
  trustedIssuersFor,
} from './identity.js';
export {
  ensureRoll,
  type InitOptions,
  type InitResult,
  initElection,
  type RollKeys,
  type RollLoadOptions,
  type RollLoadResult,
  restoreRoll,
} from './init.js';
export {
  BLIND_RSA_ALG,
  type DistrictKey,
  type DistrictPublicKey,
  type ElectionKeys,
  type IngestKeys,
  KEY_ROLES,
  type KeyRole,
  keysDir,
  type MakeKeysOptions,
  type MakeKeysResult,
  type ManifestKeys,
  makeKeys,
  missingDistrictKeys,
  type OperatorKeys,
  type OperatorPublicKey,
  operatorKeyPath,
  type PublicKey,
  type PublisherKeys,
  readDevLoginKey,
  readIdentityPublicKey,
  readIngestKeys,
  readKeys,
  readOperatorKeys,
  readPepper,
  readPublisherKeys,
  readSigningKeyFile,
  roleKeysDir,
  type SigningKey,
  type StationKeys,
  type StationPublicKey,
  stationKeyId,
  stationKeyPath,
} from './keys.js';
export { type ElectionIndex, indexElection, loadElection, resolveElectionPath } from './load.js';
export { logStartPath, readLogStart, recordLogStart } from './log-start.js';
export {
  buildManifest,
  type DistrictSlice,
  type ElectionSummary,
  type Manifest,
  manifestPath,
  type ServedManifest,
  servedManifest,
  sliceOf,
  summaryOf,
  writeManifest,
} from './manifest.js';
export { protocolProblem, signatureProblem } from './paper-protocol.js';
export { assertRollCsv, type RollCsvScan, rollCsvRows, scanRollCsv } from './roll-csv.js';
export {
  dropRoll,
  loadRoll,
  lookupVoterDistrict,
  type RollMeta,
  type RollRow,
  type RollStore,
  readRollMeta,
  rollKey,
  rollMetaKey,
} from './roll-redis.js';
export {
  forEachSampleMember,
  listSampleMembers,
  MAX_SAMPLE_PAGE,
  ROLL_CSV_HEADER,
  type SampleMember,
  sampleMemberDistrict,
  sampleRollCounts,
  sampleRollCsv,
  sampleRollPlan,
} from './sample-roll.js';
export { checkElectionConfig, validateElectionConfig } from './validate.js';
export { voterHash } from './voter-hash.js';
