/**
 * The election module's public surface (docs/contracts.md). Other folders
 * import from here only, never from the files behind it.
 */
export type {
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
} from './config-schema.js';
export { CANDIDATE_STATUSES, ElectionConfigSchema } from './config-schema.js';
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
  type StaffTokenVerifier,
  type StaffTokenVerifierOptions,
  type TokenVerifier,
  type TokenVerifierOptions,
  type TrustedIssuer,
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
  type PublicKey,
  type PublisherKeys,
  readIdentityPublicKey,
  readIngestKeys,
  readKeys,
  readPepper,
  readPublisherKeys,
  roleKeysDir,
  type SigningKey,
  type StationKeys,
  type StationPublicKey,
  stationKeyId,
  stationKeyPath,
} from './keys.js';
export { type ElectionIndex, indexElection, loadElection, resolveElectionPath } from './load.js';
export { logStartPath, readLogStart, recordLogStart } from './log-start.js';
export { buildManifest, type Manifest, manifestPath, writeManifest } from './manifest.js';
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
