// Public surface of the Face Match API's stored records.
export { MatchRecords, type FaceCrop } from './store.js';
