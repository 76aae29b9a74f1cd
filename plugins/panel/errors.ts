/**
 * The error codes the panel adds to the core's, each with what it means.
 * Every API error answers `{ error: { code, message } }`; the HTTP status for
 * each code is in http-errors.ts.
 */
export const PANEL_ERROR_CODES = {
  NVID_ERR_PANEL_LOGIN: 'a panel request without a valid session, or a login link that is unknown, used or expired (run nvid panel again)',
  NVID_ERR_PANEL_CSRF: 'a state-changing panel request without the X-CSRF-Token header of its session',
  NVID_ERR_PANEL_HOST: 'a panel request whose Host header is not one of the allowed hosts (a DNS-rebinding guard)',
  NVID_ERR_PANEL_ORIGIN: 'a panel request whose Origin header is not the panel itself',
  NVID_ERR_PANEL_UPLOAD: 'an upload the panel cannot take: not a multipart file part, a name without an allowed media extension, or an announced upload whose bytes broke off, ran past its announced size or never came',
  NVID_ERR_PANEL_TOO_LARGE: "an upload larger than the node's maxReceiveBytes; it was stopped as soon as it passed the limit and nothing of it was kept",
  NVID_ERR_PANEL_BAD_REQUEST: 'a panel request body or query that breaks its schema; the message names the field',
  NVID_ERR_PANEL_NOT_FOUND: 'a panel path, upload or send that does not exist (anymore)',
} as const;

export type PanelErrorCode = keyof typeof PANEL_ERROR_CODES;
