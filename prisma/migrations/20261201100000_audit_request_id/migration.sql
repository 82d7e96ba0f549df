-- AlterTable: one request id per request, shared by the access log, response header, audit events and API records.
ALTER TABLE "audit_events" ADD COLUMN "request_id" TEXT;
