-- AlterTable: the passive face acr (one picture, no head-movement challenge) is off until an administrator allows it per app.
ALTER TABLE "clients" ADD COLUMN "allow_passive_face" BOOLEAN NOT NULL DEFAULT false;
