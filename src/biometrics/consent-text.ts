/** Names the wording below; every recorded consent stores the version that was shown. */
export const CONSENT_TEXT_VERSION = '2026-11-v1';

/**
 * The notice a person agrees to before a face template is made (GDPR Art. 9(2)(a), BIPA 740 ILCS 14/15(b)).
 * Editing it means a new CONSENT_TEXT_VERSION, so every recorded consent names the words that were shown.
 */
export const CONSENT_TEXT: readonly string[] = [
  'To let you sign in with your face, this service turns photos of your face into a face template: a list of numbers that describes your face. The template is biometric data.',
  'The template is used only to confirm that it is you when you sign in. It is encrypted at rest, never sold or shared, and the photos themselves are not kept unless the operator has turned that on.',
  'Templates are deleted when you or an administrator remove them, when your account is deleted, and automatically after a period without sign-ins set by the operator (at most three years).',
  'Giving consent is voluntary. You can withdraw it at any time; your templates are then deleted and you can sign in another way where the operator allows it.',
];
