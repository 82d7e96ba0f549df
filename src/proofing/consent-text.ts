/** Names the wording below; every recorded proofing consent stores the version that was shown. */
export const PROOFING_CONSENT_VERSION = '2026-12-v1';

/**
 * The notice a person agrees to before proving their identity with a document. Separate from the biometric consent
 * (src/biometrics/consent-text.ts): it covers the document's personal data. Editing it means a new version.
 */
export const PROOFING_CONSENT_TEXT: readonly string[] = [
  'To confirm who you are, you photograph the page of your passport or identity card that carries the machine-readable lines, then look at the camera and follow a few head movements.',
  'This service reads the machine-readable lines, checks them and the expiry date, and compares your live face with the photo on the document and with the face you enrolled. The document picture and the frames are not kept.',
  'What is kept: the document type, the issuing country, its expiry date, the checks done and when, your names, date of birth and nationality as printed, sealed (encrypted), and a keyed fingerprint of the document number that lets us notice the same document on two accounts. The number itself is not kept.',
  'The result stays valid for a period the operator sets, and never past the document’s expiry. Apps receive your verified name, date of birth or nationality only when they ask for them and you allow that app.',
  'Giving this consent is voluntary. You can withdraw it at any time on your account page: the result and everything kept about the document are then deleted at once, and no app receives them again.',
];
