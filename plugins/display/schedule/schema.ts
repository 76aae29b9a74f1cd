/**
 * JSON schemas of the display options `playlists` and `schedule` (ajv 8,
 * strict). They check shape only: types, known keys, required keys, day
 * names. What needs reading or cross-checking (times, dates, time zones,
 * playlist names an entry refers to) is checked by ./parse.ts, whose messages
 * say what was expected instead of quoting a regular expression.
 */

const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const ITEM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    file: { type: 'string', minLength: 1, description: 'a file name of the library' },
    folder: { type: 'string', minLength: 1, description: 'a folder of media, relative to the config file' },
    seconds: { type: 'number', minimum: 0, description: 'how long a still stays up; default: imageSeconds' },
    from: { type: 'string', description: 'YYYY-MM-DD or an ISO date-time' },
    until: { type: 'string', description: 'YYYY-MM-DD (inclusive) or an ISO date-time (exclusive)' },
  },
} as const;

export const PLAYLISTS_SCHEMA = {
  type: 'object',
  description: 'named playlists',
  propertyNames: { minLength: 1 },
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: { items: { type: 'array', items: ITEM_SCHEMA } },
  },
} as const;

const ENTRY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['playlist', 'start', 'end'],
  properties: {
    name: { type: 'string', minLength: 1 },
    playlist: { type: 'string', minLength: 1 },
    days: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: WEEKDAY_NAMES } },
    start: { type: 'string', description: 'HH:MM, or HH:MM:SS' },
    end: { type: 'string', description: 'HH:MM (HH:MM:SS) or 24:00; before start: the next day' },
    from: { type: 'string', description: 'YYYY-MM-DD, first day' },
    until: { type: 'string', description: 'YYYY-MM-DD, last day' },
    priority: { type: 'integer' },
  },
} as const;

export const SCHEDULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['default'],
  properties: {
    timeZone: { type: 'string', minLength: 1, description: 'IANA zone such as Europe/Berlin; default: the node\'s own' },
    default: { type: 'string', minLength: 1, description: 'the playlist outside every window' },
    entries: { type: 'array', items: ENTRY_SCHEMA },
  },
} as const;
