-- AlterTable: one request id per request, shared by the access log, response header, audit events and API records.
ALTER TABLE "audit_events" ADD COLUMN "request_id" TEXT;

-- AlterTable: a secret rotation ends the Face Match API access of tokens issued with the old secret.
ALTER TABLE "clients" ADD COLUMN "secret_rotated_at" TIMESTAMP(3);
