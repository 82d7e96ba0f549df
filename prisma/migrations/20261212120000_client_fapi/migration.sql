-- AlterTable: FAPI 2.0 building blocks per app. PAR and DPoP stay optional unless required here; the app's public keys
-- (a JWK Set or a jwks_uri) make private_key_jwt client authentication possible.
ALTER TABLE "clients" ADD COLUMN "par_required" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "dpop_required" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "jwks" JSONB,
ADD COLUMN "jwks_uri" TEXT;
