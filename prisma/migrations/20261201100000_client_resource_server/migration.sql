-- AlterTable
ALTER TABLE "clients" ADD COLUMN "resource_server" BOOLEAN NOT NULL DEFAULT false;
