/** Identifiers shared by the extension's modules. */
export const EXTENSION_ID = 'sessionlens.sessionlens';
export const CONFIG_SECTION = 'sessionlens';
export const OUTPUT_NAME = 'Session Lens';
export const RENDER_SCHEME = 'sessionlens-render';
export const STATUS_NOTIFICATION = 'sessionlens/status';
export const API_KEY_SECRET = 'sessionlens.anthropicApiKey';
/** The install section of the project README. */
export const INSTALL_URL = 'https://github.com/sessionlens/sessionlens#install';
export const STREAM_NOTIFICATION = 'sessionlens/stream';
/** globalState key of the team hubs added (URL and name; each key is in secret storage under HUB_KEY_SECRET + URL). */
export const HUBS_STATE = 'sessionlens.teamHubs';
export const HUB_KEY_SECRET = 'sessionlens.hubKey:';
