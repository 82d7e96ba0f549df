// Public surface of biometric data: consent, templates, enrollment, kept images and enrollment invites.
export { CONSENT_TEXT, CONSENT_TEXT_VERSION } from './consent-text.js';
export { BiometricConsent, type Collector, type ConsentRecord, type Erased } from './consent.js';
export { TemplateStore, type StoredTemplate } from './templates.js';
export { EnrollmentImages } from './images.js';
export { Enrollment, EnrollmentError, type EnrollInput, type EnrollmentDeps } from './enrollment.js';
export { InviteStore, INVITE_TTL_HOURS, type Invite } from './invites.js';
