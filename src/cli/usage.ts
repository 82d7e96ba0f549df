export const USAGE = `face-oidc — OpenID Connect provider with face sign-in

Usage: face-oidc <command> [options]   (add --json to any command for JSON output)

Server
  start                                   run the provider (PORT, ISSUER, DATABASE_URL, REDIS_URL, DATA_DIR, …)
  migrate                                 apply pending database migrations

Users
  user create --email E --name N [--password P] [--admin] [--photo FILE]…
  user enroll --email E --photo FILE…
                                          enrolling a photo records that the operator collected the
                                          person's biometric consent (GDPR Art. 9 / BIPA)
  user list
  user unlock --email E                   clear the account's failed-attempt counters and re-enable face sign-in
  user delete --email E

Apps (OIDC clients)
  client create --name N [--redirect-uri URI]… [--grant authorization_code|client_credentials]…
                [--scope S]… [--public] [--first-party] [--allow-password] [--allow-passive-face] [--acr URI]
                [--resource-server] [--match-enrolled-users] [--requires-proofing]
                [--match-rules '{"minSimilarity":75,"livenessRequired":true,"qualityRequired":false,"documentRequired":false}']
                [--auth-method client_secret_basic|client_secret_post|private_key_jwt] [--jwks FILE|JSON] [--jwks-uri URI]
                [--par optional|required] [--dpop optional|required] [--fapi2]
                                          prints client_id and client_secret (shown once);
                                          --jwks/--jwks-uri: the app's public keys for private_key_jwt (no secret)
                                          --par required: plain authorization requests are refused (RFC 9126)
                                          --dpop required: tokens are DPoP-bound, requests without a proof refused
                                          --fapi2: the FAPI 2.0 preset: private_key_jwt, PAR and DPoP required
                                          --resource-server: may introspect tokens issued to other apps
                                          --requires-proofing: people must confirm their identity (document + face) first
                                          --match-enrolled-users: the Face Match API may match against
                                          enrolled accounts (user_id / email); off by default
  client list
  client delete --client-id ID
  client backchannel-logout --client-id ID (--backchannel-logout-uri URI [--backchannel-logout-session-required] | --off)
                                          where the provider POSTs logout tokens (Back-Channel Logout 1.0) when the
                                          person's session ends; https (http only to localhost on an http ISSUER);
                                          create takes the same two flags

Keys
  keys rotate                             new signing key: running instances sign with it after 2 × KEY_REFRESH_SECONDS;
                                          the old public key stays published until its tokens expire
  keys list                               each key's state: signing, next, retired, expired

Face engine
  eval --pairs FILE [--scores OUT.tsv]    accuracy on labelled pairs (path_a<TAB>path_b<TAB>1|0), failure to
                                          enroll by code, subjects that are not the largest face; --scores
                                          writes each pair's cosine
  bench [--image FILE] [--seconds N] [--document-reads N] [--only NAME,…]
                                          verification latency, throughput, event-loop delay, memory;
                                          document reading p50 and the reader's memory over N reads (40);
                                          --only runs some of face, capture, api, overload, challenge,
                                          documents
  liveness-eval --sequences FILE [--explain]
                                          challenge liveness on labelled frame sequences
                                          (dir<TAB>challenge<TAB>label<TAB>fps): BPCER, APCER per species,
                                          per sequence its reason and the frame it was decided at;
                                          --explain: every frame's offsets, pose, progress and verdict

Identity documents
  document read FILE                      find and read the MRZ of a passport, ID card or visa photo: fields,
                                          check digits, confidence per field
  document-eval --documents FILE [--lines DIR]
                                          MRZ found, read exactly, per-field accuracy, false MRZs on images
                                          without a document, time p50/p90 (path<TAB>MRZ lines joined by ^ |
                                          empty | -); --lines: exact lines on MRZ line crops (*.tif + *.gt.txt)

Options
  --json        machine-readable output
  -h, --help    this help
`;

/** Misuse of the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
