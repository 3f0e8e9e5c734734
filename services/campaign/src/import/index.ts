export { importContacts, IMPORT_CHUNK_ROWS } from './import-contacts';
export { IMPORT_LIMITS } from './limits';
export { generateContactsCsv } from './generate';
export type { CellType } from './csv-columns';
export type {
  AttributeValue,
  ImportConsent,
  ImportFormat,
  ImportMode,
  ImportOptions,
  ImportReport,
  ImportRowError,
} from './types';
