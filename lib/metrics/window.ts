/** The report window's limit where `./settings.ts` reads it, until the report's settings join `#lib/config`. */
export { MAX_WINDOW_HOURS } from '../report/window.ts';
