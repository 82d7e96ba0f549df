-- CreateTable: identity proofing (src/proofing). One record per account: the document's type, issuer and expiry, the
-- checks done and their outcomes, a keyed hash of the document number (never the number), and the identity data as
-- read, sealed (and the number sealed only where an administrator keeps it). Revocation keeps the summary; withdrawal of the proofing consent deletes the record.
CREATE TABLE "identity_proofings" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "document_type" TEXT NOT NULL,
    "issuing_country" TEXT NOT NULL,
    "document_expiry" DATE NOT NULL,
    "document_number_hash" TEXT NOT NULL,
    "document_number" BYTEA,
    "claims" BYTEA NOT NULL,
    "checks" JSONB NOT NULL,
    "verified_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "valid_until" TIMESTAMP(3) NOT NULL,
    "revoked_at" TIMESTAMP(3),
    "revoked_by" TEXT,
    "revoke_reason" TEXT,

    CONSTRAINT "identity_proofings_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "identity_proofings_user_id_key" ON "identity_proofings"("user_id");
CREATE INDEX "identity_proofings_document_number_hash_idx" ON "identity_proofings"("document_number_hash");
ALTER TABLE "identity_proofings" ADD CONSTRAINT "identity_proofings_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: the person's agreement to the proofing notice (its version), and its withdrawal.
CREATE TABLE "proofing_consents" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "text_version" TEXT NOT NULL,
    "given_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "withdrawn_at" TIMESTAMP(3),

    CONSTRAINT "proofing_consents_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "proofing_consents_user_id_idx" ON "proofing_consents"("user_id");
ALTER TABLE "proofing_consents" ADD CONSTRAINT "proofing_consents_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable: an app's approval also remembers the claims the person released to it beyond its scopes (verified_claims).
ALTER TABLE "oidc_consents" ADD COLUMN "claims" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable: apps whose users must hold a valid identity proofing before they are signed in to them.
ALTER TABLE "clients" ADD COLUMN "requires_proofing" BOOLEAN NOT NULL DEFAULT false;
