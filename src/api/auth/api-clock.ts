/** The clock of the API (rate limits, key use, closed periods, sessions); a function so tests can move it. */
export const API_CLOCK = Symbol('flamebill.apiClock');
