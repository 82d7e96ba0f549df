-- AlterTable: matching selfies against enrolled accounts through the Face Match API is off until an administrator allows it.
ALTER TABLE "clients" ADD COLUMN "match_enrolled_users" BOOLEAN NOT NULL DEFAULT false;
