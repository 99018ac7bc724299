// The credential store's import path for the rest of src/ (CLI, admin API, protocol routes).
export {
  AUTH_DIR,
  CAVE_MAX_TOKENS,
  CredentialStore,
  type CredentialStoreOptions,
  type DeviceInfo,
  type NewSecret,
  type OrgInfo,
  type ProductInfo,
  type TeamInfo,
} from './store.js';
export { ADMIN_TOKEN_FILE, ADMIN_TOKEN_MODE } from './admin-token.js';
export { CredentialCorruptionError, CredentialError, CredentialErrorCode } from './errors.js';
export { CREDENTIAL_LOG_FILE } from './format.js';
export {
  CAVE_SCOPES,
  NAME_PATTERN,
  ONENET_PERMISSIONS,
  type CaveGrant,
  type CaveScope,
  type CaveTokenInfo,
  type CredentialId,
  type OneNetGrant,
  type OneNetKeyInfo,
  type OneNetPermission,
} from './model.js';
