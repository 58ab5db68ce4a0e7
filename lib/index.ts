// Public API of qtls. Only re-exports live here.
export { TLSError, AlertDescription, alertName } from './alert.js';
