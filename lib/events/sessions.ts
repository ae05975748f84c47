/** The prepared sessions as the events function uses them (contract section 3). */
import type { PreparedSessions } from '#lib/state';
import type { SessionDirectory } from './process.ts';

/** The session directory over `PreparedSessions`: look-ups, the conversation link, its end. */
export function preparedSessionDirectory(sessions: PreparedSessions): SessionDirectory {
  return {
    byRef: (gsRef) => sessions.byRef(gsRef),
    get: (sessionId) => sessions.get(sessionId),
    link: async () => undefined,
    markEnded: async () => undefined,
  };
}
